//! `/v1/sessions`: sessions, their resources, threads and events — send, list, the live SSE
//! stream, and the lossless [`follow`](SessionEvents::follow) (reference sessions.md).

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;

use crate::api::client::{Client, ItemStream, Request};
use crate::api::error::Result;
use crate::api::follow::{FollowEvent, FollowOptions, FollowSource, follow_source};
use crate::api::retry::RequestKind;
use crate::api::sse::EventStream;
use crate::api::types::events::{
    EventParam, ListEvents, Received, SendEvents, SendEventsResponse, SessionEvent, StreamEvent,
    StreamParams,
};
use crate::api::types::sessions::{
    AddFileResource, ListResources, ListSessions, ListThreadEvents, ListThreads,
    RotateResourceToken, Session, SessionCreate, SessionResource, SessionThread, SessionUpdate,
};
use crate::api::types::{CursorPage, Deleted, Order, ResourceId, SessionId, ThreadId};

use super::seg;

/// Handle for `/v1/sessions`; get one with [`Client::sessions`].
#[derive(Clone, Copy, Debug)]
pub struct Sessions<'c> {
    pub(crate) client: &'c Client,
}

fn session_path(id: &SessionId) -> String {
    format!("/v1/sessions/{}", seg(id.as_str()))
}

impl<'c> Sessions<'c> {
    /// `POST /v1/sessions`. Never re-sent when it may have reached the server
    /// ([`Error::OutcomeUnknown`](crate::api::Error::OutcomeUnknown)): find it by its metadata.
    /// With `initial_events` the agent starts in the same call — open the stream of a session
    /// created without them first if you must not miss its first events.
    pub async fn create(&self, body: &SessionCreate) -> Result<Session> {
        self.client
            .call(Request::post("/v1/sessions", RequestKind::Create).json(body)?)
            .await
    }

    /// `GET /v1/sessions/{id}`.
    pub async fn retrieve(&self, id: &SessionId) -> Result<Session> {
        self.client.call(Request::get(session_path(id))).await
    }

    /// `POST /v1/sessions/{id}`: title, metadata patch, budget, and (while idle) the session's
    /// tools / MCP servers.
    pub async fn update(&self, id: &SessionId, body: &SessionUpdate) -> Result<Session> {
        self.client
            .call(Request::post(session_path(id), RequestKind::Idempotent).json(body)?)
            .await
    }

    /// `DELETE /v1/sessions/{id}`: removes the session and its history for good.
    pub async fn delete(&self, id: &SessionId) -> Result<Deleted> {
        self.client
            .call_deleted(Request::delete(session_path(id)), id.as_str())
            .await
    }

    /// `POST /v1/sessions/{id}/archive`: read-only from now on; status becomes `terminated`.
    pub async fn archive(&self, id: &SessionId) -> Result<Session> {
        self.client
            .call(Request::post(
                format!("{}/archive", session_path(id)),
                RequestKind::Idempotent,
            ))
            .await
    }

    /// `GET /v1/sessions`: every session (newest first by default) as a stream.
    pub fn list(&self, params: &ListSessions) -> ItemStream<Session> {
        self.client
            .paginate(Request::get("/v1/sessions").query(params.to_query()))
    }

    /// `GET /v1/sessions`: one page; pass a previous `next_page` or `prev_page` (with the same
    /// `order`).
    pub async fn list_page(
        &self,
        params: &ListSessions,
        page: Option<&str>,
    ) -> Result<CursorPage<Session>> {
        self.client
            .call(
                Request::get("/v1/sessions")
                    .query(params.to_query())
                    .page(page),
            )
            .await
    }

    /// The events of one session: send, list, stream, follow.
    pub fn events(&self, id: &SessionId) -> SessionEvents {
        SessionEvents {
            client: self.client.clone(),
            session: id.clone(),
        }
    }

    /// The resources (repositories, files, memory stores) of one session.
    pub fn resources(&self, id: &SessionId) -> SessionResources<'c> {
        SessionResources {
            client: self.client,
            base: format!("{}/resources", session_path(id)),
        }
    }

    /// The threads of one (multiagent) session.
    pub fn threads(&self, id: &SessionId) -> SessionThreads<'c> {
        SessionThreads {
            client: self.client,
            base: format!("{}/threads", session_path(id)),
        }
    }
}

/// Handle for `/v1/sessions/{id}/events`; get one with [`Sessions::events`]. Owns a clone of
/// the client, so a [`follow`](Self::follow) stream can outlive the borrow.
#[derive(Clone, Debug)]
pub struct SessionEvents {
    client: Client,
    session: SessionId,
}

impl SessionEvents {
    fn path(&self) -> String {
        format!("{}/events", session_path(&self.session))
    }

    /// `POST /v1/sessions/{id}/events`: events are queued and processed in order (an
    /// interrupt jumps the queue). Never re-sent when it may have reached the server
    /// ([`Error::OutcomeUnknown`](crate::api::Error::OutcomeUnknown)): check the history before
    /// sending again. A `204` answer is accepted (empty `data`).
    pub async fn send(&self, events: Vec<EventParam>) -> Result<SendEventsResponse> {
        let req = Request::post(self.path(), RequestKind::Create).json(&SendEvents::new(events))?;
        let resp = self.client.send(&req).await?;
        if resp.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(SendEventsResponse::default());
        }
        crate::api::client::decode(&req.operation(), &resp)
    }

    /// `GET /v1/sessions/{id}/events`: the persisted history (oldest first by default).
    pub fn list(&self, params: &ListEvents) -> ItemStream<SessionEvent> {
        self.client
            .paginate(Request::get(self.path()).query(params.to_query()))
    }

    /// `GET /v1/sessions/{id}/events/stream`: the live SSE stream. It carries only events
    /// emitted after it opens, never replays, and is not reconnected: use
    /// [`follow`](Self::follow) for the lossless form.
    pub async fn stream(&self, params: &StreamParams) -> Result<EventStream<StreamEvent>> {
        self.client
            .sse(Request::get(format!("{}/stream", self.path())).query(params.to_query()))
            .await
    }

    /// The lossless stream (see [`crate::api::follow`]): opens the live stream, backfills from
    /// the history, reconnects with backoff on cuts and stalls, and yields every persisted
    /// event exactly once in order, ending after `session.status_terminated` /
    /// `session.deleted`.
    pub fn follow(&self, params: StreamParams, options: FollowOptions) -> ItemStream<StreamEvent> {
        self.follow_from(params, options, std::iter::empty())
    }

    /// Like [`follow`](Self::follow), skipping sightings already processed (e.g. restored from
    /// a store after a restart): each item is `(event id, processed)`.
    pub fn follow_from(
        &self,
        params: StreamParams,
        options: FollowOptions,
        already_seen: impl IntoIterator<Item = (String, bool)>,
    ) -> ItemStream<StreamEvent> {
        self.source(params, None, options, already_seen)
    }

    /// Like [`follow_from`](Self::follow_from), notifying `opened` each time the live stream
    /// has opened (its response headers arrived) — what a caller waits for before sending the
    /// session's first message, so that no early event is missed ("stream first").
    pub fn follow_notifying(
        &self,
        params: StreamParams,
        options: FollowOptions,
        already_seen: impl IntoIterator<Item = (String, bool)>,
        opened: std::sync::Arc<tokio::sync::Notify>,
    ) -> ItemStream<StreamEvent> {
        self.source(params, Some(opened), options, already_seen)
    }

    /// Like [`follow_notifying`](Self::follow_notifying), yielding each event with the exact
    /// JSON text it arrived as ([`Received`]) — what a durable log stores, without
    /// re-serialising the typed event. `opened` is optional.
    pub fn follow_received(
        &self,
        params: StreamParams,
        options: FollowOptions,
        already_seen: impl IntoIterator<Item = (String, bool)>,
        opened: Option<std::sync::Arc<tokio::sync::Notify>>,
    ) -> ItemStream<Received<StreamEvent>> {
        self.source(params, opened, options, already_seen)
    }

    fn source<E: SourceItem>(
        &self,
        params: StreamParams,
        opened: Option<std::sync::Arc<tokio::sync::Notify>>,
        options: FollowOptions,
        already_seen: impl IntoIterator<Item = (String, bool)>,
    ) -> ItemStream<E> {
        follow_source(
            SessionSource::<E> {
                events: self.clone(),
                params,
                opened,
                item: std::marker::PhantomData,
            },
            options,
            already_seen,
        )
    }
}

impl FollowEvent for StreamEvent {
    fn sighting(&self) -> Option<(&str, bool)> {
        self.raw_id().map(|id| (id, self.is_processed()))
    }
    fn ends_stream(&self) -> bool {
        self.is_terminal()
    }
    fn processed_at(&self) -> Option<crate::api::types::Timestamp> {
        self.as_processed_at()
    }
}

impl FollowEvent for Received<StreamEvent> {
    fn sighting(&self) -> Option<(&str, bool)> {
        self.event.sighting()
    }
    fn ends_stream(&self) -> bool {
        self.event.ends_stream()
    }
    fn processed_at(&self) -> Option<crate::api::types::Timestamp> {
        FollowEvent::processed_at(&self.event)
    }
}

/// What a session's `follow` can yield: decoded from a live frame, or made from an item of
/// the history.
trait SourceItem: DeserializeOwned + FollowEvent + Send + 'static {
    /// The history's item type.
    type History: DeserializeOwned + Send + 'static;
    fn from_history(item: Self::History) -> Self;
}

impl SourceItem for StreamEvent {
    type History = SessionEvent;
    fn from_history(item: SessionEvent) -> Self {
        item.into()
    }
}

impl SourceItem for Received<StreamEvent> {
    type History = Received<SessionEvent>;
    fn from_history(item: Received<SessionEvent>) -> Self {
        item.into()
    }
}

struct SessionSource<E> {
    events: SessionEvents,
    params: StreamParams,
    opened: Option<std::sync::Arc<tokio::sync::Notify>>,
    item: std::marker::PhantomData<fn() -> E>,
}

impl<E: SourceItem> FollowSource<E> for SessionSource<E> {
    fn open(&self) -> BoxFuture<'_, Result<BoxStream<'static, Result<E>>>> {
        Box::pin(async move {
            let stream = self
                .events
                .client
                .sse::<E>(
                    Request::get(format!("{}/stream", self.events.path()))
                        .query(self.params.to_query()),
                )
                .await?;
            if let Some(opened) = &self.opened {
                opened.notify_one();
            }
            Ok(stream.boxed())
        })
    }

    fn history(
        &self,
        since: Option<crate::api::types::Timestamp>,
    ) -> BoxStream<'static, Result<E>> {
        let mut params = ListEvents {
            order: Some(Order::Asc),
            ..ListEvents::default()
        };
        params.created_at.gte = since;
        self.events
            .client
            .paginate::<E::History>(Request::get(self.events.path()).query(params.to_query()))
            .map_ok(E::from_history)
            .boxed()
    }
}

/// Handle for `/v1/sessions/{id}/resources`; get one with [`Sessions::resources`].
#[derive(Clone, Debug)]
pub struct SessionResources<'c> {
    client: &'c Client,
    base: String,
}

impl SessionResources<'_> {
    fn path(&self, id: &ResourceId) -> String {
        format!("{}/{}", self.base, seg(id.as_str()))
    }

    /// `GET …/resources`: every resource as a stream.
    pub fn list(&self, params: &ListResources) -> ItemStream<SessionResource> {
        self.client
            .paginate(Request::get(self.base.clone()).query(params.to_query()))
    }

    /// `POST …/resources`: mounts a file (read-only copy).
    pub async fn add_file(&self, body: &AddFileResource) -> Result<SessionResource> {
        self.client
            .call(Request::post(self.base.clone(), RequestKind::Create).json(body)?)
            .await
    }

    /// `GET …/resources/{id}`.
    pub async fn retrieve(&self, id: &ResourceId) -> Result<SessionResource> {
        self.client.call(Request::get(self.path(id))).await
    }

    /// `POST …/resources/{id}`: rotates a repository's `authorization_token`.
    pub async fn rotate_token(
        &self,
        id: &ResourceId,
        body: &RotateResourceToken,
    ) -> Result<SessionResource> {
        self.client
            .call(Request::post(self.path(id), RequestKind::Idempotent).json(body)?)
            .await
    }

    /// `DELETE …/resources/{id}`.
    pub async fn delete(&self, id: &ResourceId) -> Result<Deleted> {
        self.client
            .call_deleted(Request::delete(self.path(id)), id.as_str())
            .await
    }
}

/// Handle for `/v1/sessions/{id}/threads`; get one with [`Sessions::threads`].
#[derive(Clone, Debug)]
pub struct SessionThreads<'c> {
    client: &'c Client,
    base: String,
}

impl SessionThreads<'_> {
    fn path(&self, id: &ThreadId) -> String {
        format!("{}/{}", self.base, seg(id.as_str()))
    }

    /// `GET …/threads`: every thread as a stream.
    pub fn list(&self, params: &ListThreads) -> ItemStream<SessionThread> {
        self.client
            .paginate(Request::get(self.base.clone()).query(params.to_query()))
    }

    /// `GET …/threads/{id}`.
    pub async fn retrieve(&self, id: &ThreadId) -> Result<SessionThread> {
        self.client.call(Request::get(self.path(id))).await
    }

    /// `POST …/threads/{id}/archive`: frees one of the 25 concurrent thread slots.
    pub async fn archive(&self, id: &ThreadId) -> Result<SessionThread> {
        self.client
            .call(Request::post(
                format!("{}/archive", self.path(id)),
                RequestKind::Idempotent,
            ))
            .await
    }

    /// `GET …/threads/{id}/events`: a thread's history.
    pub fn events(&self, id: &ThreadId, params: &ListThreadEvents) -> ItemStream<SessionEvent> {
        self.client
            .paginate(Request::get(format!("{}/events", self.path(id))).query(params.to_query()))
    }

    /// `GET …/threads/{id}/stream` (note: not `/events/stream`): a thread's live stream.
    pub async fn stream(
        &self,
        id: &ThreadId,
        params: &StreamParams,
    ) -> Result<EventStream<StreamEvent>> {
        self.client
            .sse(Request::get(format!("{}/stream", self.path(id))).query(params.to_query()))
            .await
    }
}
