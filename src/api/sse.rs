//! The SSE transport of event streams: framing by the maintained `sse-stream` parser, an idle
//! timeout that detects stalled connections, `event: error` frames turned into errors, and
//! heartbeats (comments, `event: ping`, empty data) skipped.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt, stream};
use serde::de::DeserializeOwned;

use super::client::{Client, Request, request_id};
use super::error::{ApiError, Error, Operation, Result};

/// A live event stream: decoded items in arrival order.
///
/// Yields `Err` for an `event: error` frame, for a frame whose JSON does not decode (the stream
/// goes on after these), and last for a cut connection ([`Error::Stream`]) or a stall
/// ([`Error::StreamStalled`]), after which it ends. A clean end of the HTTP body ends it too.
pub struct EventStream<T> {
    inner: Pin<Box<dyn Stream<Item = Result<T>> + Send>>,
    request_id: Option<String>,
}

impl<T> std::fmt::Debug for EventStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl<T> EventStream<T> {
    /// The `request-id` of the stream's HTTP response.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

impl<T> Stream for EventStream<T> {
    type Item = Result<T>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// One SSE frame, decoded into what the stream should do with it.
pub(crate) enum Frame<T> {
    Item(T),
    Skip,
    Error(Error),
}

/// Interprets one SSE frame (reference sessions.md §10.3).
pub(crate) fn interpret<T: DeserializeOwned>(
    operation: &Operation,
    event: Option<&str>,
    data: Option<&str>,
) -> Frame<T> {
    let Some(data) = data.filter(|d| !d.trim().is_empty()) else {
        return Frame::Skip;
    };
    match event {
        Some("ping") => Frame::Skip,
        Some("error") => Frame::Error(Error::Api(Box::new(ApiError::from_body(
            operation.clone(),
            0,
            data.as_bytes(),
            None,
            None,
        )))),
        _ => match serde_json::from_str(data) {
            Ok(item) => Frame::Item(item),
            // Decode again with path tracking only to name the JSON path (the fast path above
            // does not pay for it).
            Err(plain) => {
                let mut de = serde_json::Deserializer::from_str(data);
                let (path, message) = match serde_path_to_error::deserialize::<_, T>(&mut de) {
                    Err(err) => (err.path().to_string(), err.inner().to_string()),
                    Ok(_) => (".".to_owned(), plain.to_string()),
                };
                Frame::Error(Error::Decode {
                    operation: operation.clone(),
                    path,
                    message,
                    request_id: None,
                })
            }
        },
    }
}

/// Wraps a byte stream with an idle timeout: if no chunk arrives for `idle`, yields
/// `Err(StreamStalled)` and ends. A body error yields `Err(Stream)` and ends.
pub(crate) fn with_idle_timeout<S, E>(
    body: S,
    idle: Duration,
    operation: Operation,
) -> impl Stream<Item = std::result::Result<Bytes, StreamCut>> + Send
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Send + 'static,
    E: std::fmt::Display,
{
    stream::unfold(Some(Box::pin(body)), move |state| {
        let operation = operation.clone();
        async move {
            let mut body = state?;
            match tokio::time::timeout(idle, body.next()).await {
                Ok(Some(Ok(bytes))) => Some((Ok(bytes), Some(body))),
                Ok(Some(Err(e))) => Some((
                    Err(StreamCut(Error::Stream {
                        operation,
                        message: format!("connection cut: {e}"),
                        request_id: None,
                    })),
                    None,
                )),
                Ok(None) => None,
                Err(_) => Some((
                    Err(StreamCut(Error::StreamStalled {
                        operation,
                        idle,
                        request_id: None,
                    })),
                    None,
                )),
            }
        }
    })
}

/// The reason a byte stream ended early (wrapped so `sse-stream` can carry it as a body error).
#[derive(Debug)]
pub(crate) struct StreamCut(pub Error);

impl std::fmt::Display for StreamCut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
impl std::error::Error for StreamCut {}

/// Decodes SSE frames from a byte stream into items.
pub(crate) fn decode_sse<S, T>(
    bytes: S,
    operation: Operation,
) -> impl Stream<Item = Result<T>> + Send
where
    S: Stream<Item = std::result::Result<Bytes, StreamCut>> + Send + 'static,
    T: DeserializeOwned + Send + 'static,
{
    sse_stream::SseByteStream::new(bytes).filter_map(move |frame| {
        let out = match frame {
            Ok(sse) => match interpret(&operation, sse.event.as_deref(), sse.data.as_deref()) {
                Frame::Item(item) => Some(Ok(item)),
                Frame::Skip => None,
                Frame::Error(e) => Some(Err(e)),
            },
            Err(sse_stream::Error::Body(source)) => {
                Some(Err(match source.downcast::<StreamCut>() {
                    Ok(cut) => cut.0,
                    Err(other) => Error::Stream {
                        operation: operation.clone(),
                        message: other.to_string(),
                        request_id: None,
                    },
                }))
            }
            Err(other) => Some(Err(Error::Stream {
                operation: operation.clone(),
                message: format!("invalid SSE: {other}"),
                request_id: None,
            })),
        };
        std::future::ready(out)
    })
}

impl Client {
    /// Opens an SSE stream: the request is retried like a read until the response headers
    /// arrive; from then on the stream is not retried (see `follow` for the lossless form).
    pub(crate) async fn sse<T>(&self, mut req: Request) -> Result<EventStream<T>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        req.accept = Some("text/event-stream");
        let operation = req.operation();
        let resp = self.send_raw(&req).await?;
        let request_id = request_id(resp.headers());
        let idle = self.inner.stream_idle_timeout;
        let bytes = with_idle_timeout(resp.bytes_stream(), idle, operation.clone());
        let rid = request_id.clone();
        let items = decode_sse(bytes, operation)
            .map(move |item| item.map_err(|e| e.with_request_id(rid.as_deref())));
        Ok(EventStream {
            inner: Box::pin(items),
            request_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;
    use serde_json::{Value, json};

    fn op() -> Operation {
        Operation {
            method: "GET".into(),
            path: "/v1/sessions/s/events/stream".into(),
        }
    }

    /// A body exercising the parser: CRLF and CR line ends, comments, pings, empty data,
    /// multi-line data, an error frame, an unknown type, frames without `event:`, multi-byte
    /// UTF-8 (2-, 3- and 4-byte sequences), `id:`/`retry:` fields.
    const CORPUS: &str = concat!(
        ": connected\n\n",
        "event: session.status_running\n",
        "data: {\"type\":\"session.status_running\",\"id\":\"sevt_1\",\"processed_at\":\"2026-03-15T10:00:02Z\"}\n\n",
        "event: ping\ndata: {}\n\n",
        "event: agent.message\r\n",
        "data: {\"type\":\"agent.message\",\"id\":\"sevt_2\",\r\n",
        "data: \"content\":[{\"type\":\"text\",\"text\":\"22°C — ✓ 日本 🦀\"}],\"processed_at\":\"2026-03-15T10:00:03Z\"}\r\n\r\n",
        ": heartbeat\n\n",
        "event: error\n",
        "data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"},\"request_id\":\"req_1\"}\n\n",
        "id: 7\nretry: 1000\n",
        "event: brand.new_type\rdata: {\"type\":\"brand.new_type\",\"id\":\"sevt_3\",\"x\":[1,2]}\r\r",
        "event: session.status_idle\n",
        "data:\n\n",
        "data: {\"type\":\"session.status_idle\",\"id\":\"sevt_4\",\"stop_reason\":{\"type\":\"end_turn\"}}\n\n",
        "event: agent.message\ndata: {not json\n\n",
    );

    #[derive(Debug, PartialEq)]
    enum Out {
        Item(Value),
        Api(Option<String>, String),
        Decode,
    }

    async fn run(chunks: Vec<Vec<u8>>) -> Vec<Out> {
        let bytes = stream::iter(
            chunks
                .into_iter()
                .map(|c| Ok::<_, StreamCut>(Bytes::from(c))),
        );
        decode_sse::<_, Value>(bytes, op())
            .map(|r| match r {
                Ok(v) => Out::Item(v),
                Err(Error::Api(e)) => Out::Api(e.error_type.clone(), e.message.clone()),
                Err(Error::Decode { .. }) => Out::Decode,
                Err(e) => panic!("unexpected error {e}"),
            })
            .collect()
            .await
    }

    fn expected() -> Vec<Out> {
        vec![
            Out::Item(
                json!({"type":"session.status_running","id":"sevt_1","processed_at":"2026-03-15T10:00:02Z"}),
            ),
            Out::Item(
                json!({"type":"agent.message","id":"sevt_2","content":[{"type":"text","text":"22°C — ✓ 日本 🦀"}],"processed_at":"2026-03-15T10:00:03Z"}),
            ),
            Out::Api(Some("overloaded_error".into()), "Overloaded".into()),
            Out::Item(json!({"type":"brand.new_type","id":"sevt_3","x":[1,2]})),
            Out::Item(
                json!({"type":"session.status_idle","id":"sevt_4","stop_reason":{"type":"end_turn"}}),
            ),
            Out::Decode,
        ]
    }

    #[tokio::test]
    async fn whole_body_decodes_to_the_expected_frames() {
        assert_eq!(run(vec![CORPUS.as_bytes().to_vec()]).await, expected());
    }

    #[tokio::test]
    async fn every_split_point_gives_the_same_frames() {
        let body = CORPUS.as_bytes();
        // Includes splits inside multi-byte characters and between CR and LF.
        assert!(body.windows(2).any(|w| w == b"\r\n"));
        for i in 0..=body.len() {
            let got = run(vec![body[..i].to_vec(), body[i..].to_vec()]).await;
            assert_eq!(got, expected(), "split at byte {i}");
        }
    }

    #[tokio::test]
    async fn one_byte_chunks_give_the_same_frames() {
        let chunks = CORPUS.bytes().map(|b| vec![b]).collect();
        assert_eq!(run(chunks).await, expected());
    }

    #[tokio::test]
    async fn incomplete_final_frame_is_dropped() {
        let body = "event: a\ndata: {\"type\":\"a\"}\n\nevent: b\ndata: {\"type\":\"b\"}";
        let got = run(vec![body.as_bytes().to_vec()]).await;
        assert_eq!(got, vec![Out::Item(json!({"type":"a"}))]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_connection_is_reported_as_stalled() {
        let idle = Duration::from_secs(30);
        let first = stream::iter(vec![Ok::<_, std::io::Error>(Bytes::from_static(
            b"event: x\ndata: {\"type\":\"x\"}\n\n",
        ))]);
        let body = first.chain(stream::pending());
        let started = tokio::time::Instant::now();
        let out: Vec<Result<Value>> = decode_sse(with_idle_timeout(body, idle, op()), op())
            .collect()
            .await;
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].as_ref().ok(), Some(&json!({"type":"x"})));
        assert!(matches!(out[1], Err(Error::StreamStalled { idle: i, .. }) if i == idle));
        assert_eq!(started.elapsed(), idle);
    }

    #[tokio::test(start_paused = true)]
    async fn heartbeats_keep_a_quiet_stream_alive() {
        // A comment every 20 s with a 30 s idle timeout: 10 heartbeats, then a real event.
        let idle = Duration::from_secs(30);
        let beats = stream::unfold(0u32, |n| async move {
            tokio::time::sleep(Duration::from_secs(20)).await;
            let chunk: &'static [u8] = if n < 10 {
                b": ping\n\n"
            } else {
                b"event: x\ndata: {\"type\":\"x\"}\n\n"
            };
            (n <= 10).then(|| (Ok::<_, std::io::Error>(Bytes::from_static(chunk)), n + 1))
        });
        let out: Vec<Result<Value>> = decode_sse(with_idle_timeout(beats, idle, op()), op())
            .collect()
            .await;
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].as_ref().ok(), Some(&json!({"type":"x"})));
    }

    #[tokio::test]
    async fn a_cut_body_ends_the_stream_with_an_error() {
        let body = stream::iter(vec![
            Ok(Bytes::from_static(
                b"event: x\ndata: {\"type\":\"x\"}\n\nevent: y\nda",
            )),
            Err(std::io::Error::other("reset by peer")),
        ]);
        let out: Vec<Result<Value>> =
            decode_sse(with_idle_timeout(body, Duration::from_secs(5), op()), op())
                .collect()
                .await;
        assert_eq!(out.len(), 2);
        assert!(out[0].is_ok());
        match &out[1] {
            Err(Error::Stream { message, .. }) => assert!(message.contains("reset by peer")),
            other => panic!("{other:?}"),
        }
    }
}
