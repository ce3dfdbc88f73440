//! Wire fixtures for the skills family.

use claude_agents::api::types::Deleted;
use claude_agents::api::types::skills::*;
use serde_json::{Value, json};

const SKILL_MD_TEXT: &str = "---\nname: invoice-extractor\ndescription: Extracts vendor, totals and line items from PDF invoices into JSON. Use when the user provides invoices.\n---\n# Invoice extractor\n";

#[test]
fn wire_skills_fixtures_round_trip() {
    crate::fixtures::check_family("skills", |path, rust_type, value| match rust_type {
        "Skill" => {
            let s = crate::fixtures::round_trip::<Skill>(path, value);
            assert!(
                matches!(s.source, Some(SkillSource::Object(_))),
                "{}",
                path.display()
            );
            assert!(!s.source_kind().unwrap().is_other(), "{}", path.display());
            assert!(s.name().is_some() && s.latest_version().is_some());
            true
        }
        "SkillVersion" => {
            let v = crate::fixtures::round_trip::<SkillVersion>(path, value);
            assert!(v.version_ref().is_some());
            true
        }
        "Deleted" => {
            crate::fixtures::round_trip::<Deleted>(path, value);
            true
        }
        _ => false,
    });
}

#[test]
fn wire_skills_current_shape_fields() {
    let doc: Value =
        serde_json::from_str(include_str!("../fixtures/skills/skill_anthropic.json")).unwrap();
    let s: Skill = serde_json::from_value(doc["value"].clone()).unwrap();
    assert_eq!(s.id.as_ref().unwrap().as_str(), "xlsx");
    assert_eq!(s.source_kind(), Some(&SkillSourceKind::Anthropic));
    assert_eq!(s.name(), Some("Excel"));
    assert_eq!(s.latest_version(), Some("20251013"));
}

#[test]
fn wire_skills_legacy_shape_decodes_and_round_trips() {
    let raw = json!({
        "type": "skill",
        "id": "skill_01JAbcdefghijklmnopqrstuvw",
        "display_title": "My Custom Skill",
        "latest_version": "1759178010641129",
        "source": "custom",
        "created_at": "2024-10-30T23:58:27.427722Z",
        "updated_at": "2024-10-30T23:58:27.427722Z"
    });
    let s: Skill = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(s.name(), Some("My Custom Skill"));
    assert_eq!(s.latest_version(), Some("1759178010641129"));
    assert_eq!(s.source, Some(SkillSource::Legacy(SkillSourceKind::Custom)));
    assert_eq!(s.display_name, None);
    let back = serde_json::to_value(&s).unwrap();
    assert_eq!(back["source"], "custom");
    assert_eq!(back["display_title"], "My Custom Skill");
    assert!(back.get("display_name").is_none());
    assert!(back.get("latest_version_id").is_none());

    // Legacy display_title may be null.
    let s: Skill = serde_json::from_value(
        json!({"type": "skill", "id": "skill_x", "display_title": null, "source": "anthropic"}),
    )
    .unwrap();
    assert_eq!(s.name(), None);
    assert_eq!(s.source_kind(), Some(&SkillSourceKind::Anthropic));

    let v: SkillVersion = serde_json::from_value(json!({
        "type": "skill_version",
        "id": "skillver_01",
        "skill_id": "skill_01JAbcdefghijklmnopqrstuvw",
        "version": "1759178010641129",
        "name": "my-skill",
        "description": "Does things.",
        "directory": "my-skill",
        "created_at": "2024-10-30T23:58:27.427722Z"
    }))
    .unwrap();
    assert_eq!(v.version.as_deref(), Some("1759178010641129"));
    assert_eq!(v.directory.as_deref(), Some("my-skill"));
    let v: SkillVersion = serde_json::from_value(json!({"version": "1759178010641129"})).unwrap();
    assert_eq!(v.version_ref(), Some("1759178010641129"));
}

#[test]
fn wire_skills_tolerates_partial_and_unknown_sources() {
    let s: Skill = serde_json::from_value(json!({})).unwrap();
    assert_eq!(s, Skill::default());
    assert_eq!(serde_json::to_value(&s).unwrap(), json!({}));

    let raw = json!({"type": "marketplace", "publisher": "acme"});
    let s: Skill = serde_json::from_value(json!({"source": raw})).unwrap();
    let Some(SkillSource::Object(o)) = &s.source else {
        panic!("{:?}", s.source)
    };
    assert_eq!(o.kind, SkillSourceKind::Other("marketplace".into()));
    assert_eq!(serde_json::to_value(&s).unwrap()["source"], raw);

    let s: Skill = serde_json::from_value(json!({"source": "team"})).unwrap();
    assert_eq!(
        s.source_kind(),
        Some(&SkillSourceKind::Other("team".into()))
    );

    let s: Skill = serde_json::from_value(json!({"source": 7})).unwrap();
    assert_eq!(s.source, Some(SkillSource::Other(json!(7))));
    assert_eq!(s.source_kind(), None);
}

#[test]
fn wire_skills_list_queries() {
    assert!(ListSkills::default().to_query().is_empty());
    assert_eq!(
        ListSkills {
            limit: Some(1000),
            source: Some(SkillSourceKind::Custom)
        }
        .to_query(),
        vec![
            ("limit".to_owned(), "1000".to_owned()),
            ("source".to_owned(), "custom".to_owned())
        ]
    );
    assert_eq!(
        ListSkills {
            limit: None,
            source: Some(SkillSourceKind::Anthropic)
        }
        .to_query(),
        vec![("source".to_owned(), "anthropic".to_owned())]
    );
    assert!(ListSkillVersions::default().to_query().is_empty());
    assert_eq!(
        ListSkillVersions { limit: Some(3) }.to_query(),
        vec![("limit".to_owned(), "3".to_owned())]
    );
}

// ------------------------------------------------------------------------------------------
// SkillFolder
// ------------------------------------------------------------------------------------------

#[test]
fn wire_skills_folder_parts() {
    let folder = SkillFolder::new("invoice-extractor")
        .unwrap()
        .with_file("scripts/extract.py", "text/x-python", &b"print('hi')"[..])
        .unwrap()
        .with_file(SKILL_MD, "text/markdown", SKILL_MD_TEXT)
        .unwrap();
    folder.validate().unwrap();
    let parts: Vec<_> = folder.parts().unwrap().collect();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].field_name, "files[]");
    assert_eq!(parts[0].filename, "invoice-extractor/SKILL.md");
    assert_eq!(parts[0].content_type, "text/markdown");
    assert_eq!(parts[0].bytes.as_ref(), SKILL_MD_TEXT.as_bytes());
    assert_eq!(parts[1].filename, "invoice-extractor/scripts/extract.py");
    assert_eq!(parts[1].content_type, "text/x-python");
    assert_eq!(parts[1].bytes.as_ref(), b"print('hi')");
}

#[test]
fn wire_skills_folder_from_files() {
    let folder = SkillFolder::from_files([
        (
            "my-skill/SKILL.md",
            "text/markdown",
            SKILL_MD_TEXT.as_bytes().to_vec(),
        ),
        (
            "my-skill/reference/forms.md",
            guess_content_type("forms.md"),
            b"# forms".to_vec(),
        ),
    ])
    .unwrap();
    assert_eq!(folder.dir(), "my-skill");
    assert_eq!(
        folder.files().keys().collect::<Vec<_>>(),
        ["SKILL.md", "reference/forms.md"]
    );

    let err = SkillFolder::from_files([
        ("a/SKILL.md", "text/markdown", Vec::new()),
        ("b/x.md", "text/markdown", Vec::new()),
    ])
    .unwrap_err();
    assert_eq!(
        err,
        SkillFolderError::MultipleTopLevelDirs {
            first: "a".into(),
            second: "b".into()
        }
    );

    let err = SkillFolder::from_files([("SKILL.md", "text/markdown", Vec::new())]).unwrap_err();
    assert!(matches!(err, SkillFolderError::InvalidPath { .. }), "{err}");

    let err =
        SkillFolder::from_files([("a/docs/SKILL.md", "text/markdown", Vec::new())]).unwrap_err();
    assert_eq!(err, SkillFolderError::MissingSkillMd("a".into()));

    let err = SkillFolder::from_files(Vec::<(String, String, Vec<u8>)>::new()).unwrap_err();
    assert!(matches!(err, SkillFolderError::MissingSkillMd(_)));
}

#[test]
fn wire_skills_folder_rejects_bad_paths() {
    let folder = SkillFolder::new("s").unwrap();
    for bad in [
        "",
        "../etc/passwd",
        "scripts/../../x",
        "/abs/path",
        "a//b",
        "./SKILL.md",
        "scripts\\x.py",
        "C:/x",
        "dir/",
    ] {
        let err = folder
            .clone()
            .with_file(bad, "text/plain", Vec::new())
            .unwrap_err();
        assert!(
            matches!(err, SkillFolderError::InvalidPath { .. }),
            "{bad:?} -> {err}"
        );
    }
    let err = folder
        .clone()
        .with_file("x.md", "text/markdown", Vec::new())
        .unwrap()
        .with_file("x.md", "text/markdown", Vec::new())
        .unwrap_err();
    assert_eq!(err, SkillFolderError::DuplicatePath("x.md".into()));

    for bad_dir in ["", ".", "..", "a/b", "a\\b"] {
        assert!(
            matches!(
                SkillFolder::new(bad_dir),
                Err(SkillFolderError::InvalidDirName(_))
            ),
            "{bad_dir:?}"
        );
    }

    // Missing SKILL.md (only a lowercase one: the name is case-sensitive).
    let folder = SkillFolder::new("s")
        .unwrap()
        .with_file("skill.md", "text/markdown", Vec::new())
        .unwrap();
    assert_eq!(
        folder.validate(),
        Err(SkillFolderError::MissingSkillMd("s".into()))
    );
    assert!(folder.parts().is_err());
}

#[test]
fn wire_skills_folder_from_skill_md() {
    let folder = SkillFolder::from_skill_md(SKILL_MD_TEXT).unwrap();
    assert_eq!(folder.dir(), "invoice-extractor");
    let parts: Vec<_> = folder.parts().unwrap().collect();
    assert_eq!(parts.len(), 1);
    assert_eq!(parts[0].filename, "invoice-extractor/SKILL.md");
    assert_eq!(parts[0].content_type, "text/markdown");

    let folder = SkillFolder::from_skill_md(SKILL_MD_TEXT)
        .unwrap()
        .with_file(
            "scripts/run.sh",
            guess_content_type("run.sh"),
            &b"#!/bin/sh"[..],
        )
        .unwrap();
    assert_eq!(folder.parts().unwrap().count(), 2);
}

fn md(name: &str, description: &str) -> String {
    format!("---\nname: {name}\ndescription: {description}\n---\nbody\n")
}

#[test]
fn wire_skills_frontmatter_rules() {
    let bad_names = [
        ("Invoice-Extractor", "uppercase"),
        ("invoice_extractor", "underscore"),
        ("invoice extractor", "space"),
        ("my-claude-helper", "reserved"),
        ("anthropic-tools", "reserved"),
        ("<b>x</b>", "xml"),
    ];
    for (name, why) in bad_names {
        let err = SkillFolder::from_skill_md(md(name, "Does things.")).unwrap_err();
        assert!(
            matches!(err, SkillFolderError::InvalidName { .. }),
            "{why}: {err}"
        );
    }
    let long = "a".repeat(65);
    assert!(matches!(
        SkillFrontmatter::parse(&md(&long, "d")),
        Err(SkillFolderError::InvalidName { .. })
    ));
    assert!(SkillFrontmatter::parse(&md(&"a".repeat(64), "d")).is_ok());

    let long_desc = "x".repeat(1025);
    assert_eq!(
        SkillFrontmatter::parse(&md("ok", &long_desc)),
        Err(SkillFolderError::InvalidDescription(
            "longer than 1024 characters"
        ))
    );
    assert!(SkillFrontmatter::parse(&md("ok", &"x".repeat(1024))).is_ok());
    assert_eq!(
        SkillFrontmatter::parse(&md("ok", "Use <tool>this</tool> when asked.")),
        Err(SkillFolderError::InvalidDescription("contains an XML tag"))
    );
    assert_eq!(
        SkillFrontmatter::parse(&md("ok", "\"\"")),
        Err(SkillFolderError::MissingField("description"))
    );
    assert_eq!(
        SkillFrontmatter::parse("---\ndescription: d\n---\n"),
        Err(SkillFolderError::MissingField("name"))
    );
    assert_eq!(
        SkillFrontmatter::parse("# no frontmatter\nname: x\n"),
        Err(SkillFolderError::MissingFrontmatter)
    );
    assert_eq!(
        SkillFrontmatter::parse("---\nname: x\ndescription: d\n"),
        Err(SkillFolderError::MissingFrontmatter)
    );

    let fm = SkillFrontmatter::parse(
        "---\r\nname: pdf-2\r\ndescription: \"Reads PDFs: forms & tables. Use for PDFs.\"\r\n---\r\n",
    )
    .unwrap();
    assert_eq!(fm.name, "pdf-2");
    assert_eq!(fm.description, "Reads PDFs: forms & tables. Use for PDFs.");
}

#[test]
fn wire_skills_errors_display() {
    let err = SkillFolder::new("s")
        .unwrap()
        .with_file("../x", "text/plain", Vec::new())
        .unwrap_err();
    assert_eq!(err.to_string(), "invalid file path \"../x\": `..` segment");
}
