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
        _ => {
            let mut de = serde_json::Deserializer::from_str(data);
            match serde_path_to_error::deserialize(&mut de) {
                Ok(item) => Frame::Item(item),
                Err(err) => Frame::Error(Error::Decode {
                    operation: operation.clone(),
                    path: err.path().to_string(),
                    message: err.inner().to_string(),
                    request_id: None,
                }),
            }
        }
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
                    })),
                    None,
                )),
                Ok(None) => None,
                Err(_) => Some((
                    Err(StreamCut(Error::StreamStalled { operation, idle })),
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
pub(crate) fn decode_sse<S, T>(bytes: S, operation: Operation) -> impl Stream<Item = Result<T>> + Send
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
            Err(sse_stream::Error::Body(source)) => Some(Err(match source.downcast::<StreamCut>() {
                Ok(cut) => cut.0,
                Err(other) => Error::Stream {
                    operation: operation.clone(),
                    message: other.to_string(),
                },
            })),
            Err(other) => Some(Err(Error::Stream {
                operation: operation.clone(),
                message: format!("invalid SSE: {other}"),
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
        Ok(EventStream {
            inner: Box::pin(decode_sse(bytes, operation)),
            request_id,
        })
    }
}
