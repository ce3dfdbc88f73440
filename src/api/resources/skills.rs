//! `/v1/skills` and skill versions, with multipart upload of a skill folder (reference
//! skills.md §1–2). No beta header unless the client is configured for the legacy shape.

use std::sync::Arc;

use bytes::Bytes;

use crate::api::client::{Body, Client, ItemStream, Request};
use crate::api::error::{Error, Result};
use crate::api::retry::RequestKind;
use crate::api::types::skills::{ListSkillVersions, ListSkills, Skill, SkillFolder, SkillVersion};
use crate::api::types::{Deleted, SkillId};

use super::seg;

/// Handle for `/v1/skills`; get one with [`Client::skills`].
#[derive(Clone, Copy, Debug)]
pub struct Skills<'c> {
    pub(crate) client: &'c Client,
}

fn skill_path(id: &SkillId) -> String {
    format!("/v1/skills/{}", seg(id.as_str()))
}

/// Builds the `multipart/form-data` body: an optional `display_name` text part, then one
/// `files[]` part per file (SKILL.md first), named `dir/relative/path`.
fn upload_body(folder: &SkillFolder, display_name: Option<&str>) -> Result<Body> {
    let parts: Vec<(String, String, Bytes)> = folder
        .parts()
        .map_err(|e| Error::InvalidRequest(format!("invalid skill folder: {e}")))?
        .map(|p| (p.filename, p.content_type.to_owned(), p.bytes.clone()))
        .collect();
    let display_name = display_name.map(str::to_owned);
    Ok(Body::Multipart(Arc::new(move || {
        let mut form = reqwest::multipart::Form::new();
        if let Some(name) = &display_name {
            form = form.text("display_name", name.clone());
        }
        for (filename, content_type, bytes) in &parts {
            let part = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(filename.clone());
            let part = match part.mime_str(content_type) {
                Ok(part) => part,
                // An unparsable content type degrades to the multipart default.
                Err(_) => {
                    reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(filename.clone())
                }
            };
            form = form.part("files[]", part);
        }
        form
    })))
}

impl<'c> Skills<'c> {
    /// `POST /v1/skills` (multipart): uploads a new custom skill. `display_name` defaults to
    /// the SKILL.md frontmatter `name`. The folder is validated before anything is sent.
    pub async fn create(&self, folder: &SkillFolder, display_name: Option<&str>) -> Result<Skill> {
        let mut req = Request::post("/v1/skills", RequestKind::Create);
        req.body = upload_body(folder, display_name)?;
        self.client.call(req).await
    }

    /// `GET /v1/skills/{id}`.
    pub async fn retrieve(&self, id: &SkillId) -> Result<Skill> {
        self.client.call(Request::get(skill_path(id))).await
    }

    /// `DELETE /v1/skills/{id}`.
    pub async fn delete(&self, id: &SkillId) -> Result<Deleted> {
        self.client
            .call_deleted(Request::delete(skill_path(id)), id.as_str())
            .await
    }

    /// `GET /v1/skills`: every skill (filter by `source`) as a stream.
    pub fn list(&self, params: &ListSkills) -> ItemStream<Skill> {
        self.client
            .paginate(Request::get("/v1/skills").query(params.to_query()))
    }

    /// The versions of one skill.
    pub fn versions(&self, skill: &SkillId) -> SkillVersions<'c> {
        SkillVersions {
            client: self.client,
            base: format!("{}/versions", skill_path(skill)),
        }
    }
}

/// Handle for `/v1/skills/{id}/versions`; get one with [`Skills::versions`].
#[derive(Clone, Debug)]
pub struct SkillVersions<'c> {
    client: &'c Client,
    base: String,
}

impl SkillVersions<'_> {
    fn path(&self, version: &str) -> String {
        format!("{}/{}", self.base, seg(version))
    }

    /// `POST …/versions` (multipart): uploads a new version; its SKILL.md must keep the same
    /// `name` as the first upload.
    pub async fn create(&self, folder: &SkillFolder) -> Result<SkillVersion> {
        let mut req = Request::post(self.base.clone(), RequestKind::Create);
        req.body = upload_body(folder, None)?;
        self.client.call(req).await
    }

    /// `GET …/versions/{version}` — a version id, or `latest` (legacy shape: epoch string).
    pub async fn retrieve(&self, version: &str) -> Result<SkillVersion> {
        self.client.call(Request::get(self.path(version))).await
    }

    /// `DELETE …/versions/{version}`.
    pub async fn delete(&self, version: &str) -> Result<Deleted> {
        self.client
            .call_deleted(Request::delete(self.path(version)), version)
            .await
    }

    /// `GET …/versions/{version}/content`: the version's files as a zip archive.
    pub async fn content(&self, version: &str) -> Result<Bytes> {
        let mut req = Request::get(format!("{}/content", self.path(version)));
        req.accept = Some("application/binary");
        Ok(self.client.send(&req).await?.body)
    }

    /// `GET …/versions`: every version as a stream.
    pub fn list(&self, params: &ListSkillVersions) -> ItemStream<SkillVersion> {
        self.client
            .paginate(Request::get(self.base.clone()).query(params.to_query()))
    }
}
