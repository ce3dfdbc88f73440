//! The task tools an agent gets in basic task mode (DESIGN decision 10): custom tools the
//! launcher answers through the host's hook (`agent.custom_tool_use` →
//! `user.custom_tool_result`). Names, descriptions and schemas live here so the reconciler
//! (which puts them on the agent) and the launcher (which answers them) agree.

use serde_json::{Map, Value, json};

use crate::api::types::agents::{CustomTool, CustomToolInputSchema};

/// Reads the task the session works on: title, description, status, comments, links.
pub const GET_TASK: &str = "get_task";
/// Adds a comment to the task.
pub const ADD_COMMENT: &str = "add_comment";
/// Changes the task's status.
pub const UPDATE_STATUS: &str = "update_status";

fn schema(properties: Value, required: &[&str]) -> CustomToolInputSchema {
    let properties: Map<String, Value> = match properties {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    CustomToolInputSchema::object(
        properties,
        required.iter().map(|s| (*s).to_owned()).collect(),
    )
}

/// The three task tools, in a stable order: [`GET_TASK`], [`ADD_COMMENT`], [`UPDATE_STATUS`].
pub fn task_tools() -> Vec<CustomTool> {
    vec![
        CustomTool {
            name: GET_TASK.to_owned(),
            description: "Read the task you are working on: its title, description, status, \
                          comments and links. Takes no input."
                .to_owned(),
            input_schema: schema(json!({}), &[]),
        },
        CustomTool {
            name: ADD_COMMENT.to_owned(),
            description: "Add a comment to the task you are working on, visible to the \
                          team. Use Markdown."
                .to_owned(),
            input_schema: schema(
                json!({"body": {"type": "string", "description": "The comment, in Markdown."}}),
                &["body"],
            ),
        },
        CustomTool {
            name: UPDATE_STATUS.to_owned(),
            description: "Change the status of the task you are working on (for example \
                          `in_progress`, `in_review`, `done`)."
                .to_owned(),
            input_schema: schema(
                json!({"status": {"type": "string", "description": "The new status."}}),
                &["status"],
            ),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_valid() {
        let tools = task_tools();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, [GET_TASK, ADD_COMMENT, UPDATE_STATUS]);
        for t in &tools {
            assert!(
                t.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            );
            assert_eq!(t.input_schema.kind, "object");
        }
    }
}
