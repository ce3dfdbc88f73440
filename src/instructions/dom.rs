//! The DOM passes around ammonia: parsing a fragment, pruning hidden and non-text elements with
//! their content, cleaning text nodes, bounding the nesting depth, and serialising back.
//!
//! Uses the html5ever/rcdom versions htmd uses (so no extra crates are compiled; the trees never
//! cross into htmd, which gets HTML text, so the versions may drift apart safely), and walks the
//! tree iteratively: no recursion on input-controlled depth.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use html5ever::serialize::{SerializeOpts, TraversalScope, serialize};
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::{Attribute, ParseOpts, QualName, local_name, ns, parse_fragment};
use markup5ever_rcdom::{Handle, Node, NodeData, RcDom, SerializableHandle};

use super::{style, text};

/// Elements deeper than this (counted from the fragment root) are flattened to their text.
/// Editor output nests a handful of levels; the limit keeps htmd's recursive walk far from the
/// stack's end on any thread.
pub(crate) const MAX_DEPTH: usize = 64;

/// Elements removed together with everything inside them, whatever their attributes: scripts,
/// styles, templates, embedded documents and plugins, form controls whose text is not prose,
/// media, metadata, and raw-text elements. Foreign content (SVG, MathML) is removed by
/// namespace.
const DROPPED_WITH_CONTENT: &[&str] = &[
    "applet",
    "audio",
    "base",
    "canvas",
    "datalist",
    "embed",
    "frame",
    "frameset",
    "head",
    "iframe",
    "img",
    "link",
    "math",
    "meta",
    "noembed",
    "noframes",
    "noscript",
    "object",
    "picture",
    "plaintext",
    "script",
    "select",
    "style",
    "svg",
    "template",
    "textarea",
    "title",
    "video",
    "xmp",
];

/// Elements whose end starts a new line when a too-deep subtree is flattened to text.
const LINE_BREAKING: &[&str] = &[
    "blockquote",
    "br",
    "dd",
    "div",
    "dt",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "p",
    "pre",
    "tr",
];

/// Parses an HTML fragment the way ammonia does (in a `<div>` context, scripting enabled).
/// Returns the fragment's root element (html5ever's `<html>` wrapper).
pub(crate) fn parse(html: &str) -> Handle {
    let dom = parse_fragment(
        RcDom::default(),
        ParseOpts::default(),
        QualName::new(None, ns!(html), local_name!("div")),
        vec![],
        false,
    )
    .one(html);
    // Detach the root before the document goes: rcdom's `Drop` empties the whole subtree of a
    // dropped node, shared handles or not.
    let root = std::mem::take(&mut *dom.document.children.borrow_mut())
        .into_iter()
        .next();
    // html5ever always creates the fragment root; an empty element stands in if it ever did not.
    root.unwrap_or_else(|| {
        Node::new(NodeData::Element {
            name: QualName::new(None, ns!(html), local_name!("html")),
            attrs: Default::default(),
            template_contents: Default::default(),
            mathml_annotation_xml_integration_point: false,
        })
    })
}

/// Serialises the children of a fragment root back to HTML.
pub(crate) fn serialize_children(root: &Handle) -> String {
    let mut out = Vec::new();
    let handle: SerializableHandle = root.clone().into();
    let opts = SerializeOpts {
        traversal_scope: TraversalScope::ChildrenOnly(None),
        ..SerializeOpts::default()
    };
    // Writing into a Vec cannot fail, and the serialiser only writes UTF-8.
    if serialize(&mut out, &handle, opts).is_err() {
        return String::new();
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Prunes the tree under `root` in place:
///
/// * elements of [`DROPPED_WITH_CONTENT`], elements outside the HTML namespace and
///   [hidden](is_hidden) elements are removed with their content;
/// * comments, processing instructions and doctypes are removed;
/// * text is cleaned by [`text::clean`] (empty text nodes disappear);
/// * an element at [`MAX_DEPTH`] keeps only the text of its (pruned) subtree.
pub(crate) fn prune(root: &Handle) {
    let mut stack = vec![(root.clone(), 0usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth >= MAX_DEPTH {
            let flat = flatten(&node);
            let children = std::mem::take(&mut *node.children.borrow_mut());
            drop(children);
            if !flat.is_empty() {
                let text = Node::new(NodeData::Text {
                    contents: RefCell::new(StrTendril::from(flat)),
                });
                text.parent.set(Some(Rc::downgrade(&node)));
                node.children.borrow_mut().push(text);
            }
            continue;
        }
        let children = std::mem::take(&mut *node.children.borrow_mut());
        let mut kept = Vec::with_capacity(children.len());
        for child in children {
            match keep(&child) {
                Keep::No => child.parent.set(None),
                Keep::Text(cleaned) => {
                    if let Some(cleaned) = cleaned
                        && let NodeData::Text { contents } = &child.data
                    {
                        *contents.borrow_mut() = StrTendril::from(cleaned);
                    }
                    kept.push(child);
                }
                Keep::Element => {
                    stack.push((child.clone(), depth + 1));
                    kept.push(child);
                }
            }
        }
        *node.children.borrow_mut() = kept;
    }
}

enum Keep {
    No,
    /// A non-empty text node, with its cleaned text if cleaning changed it.
    Text(Option<String>),
    Element,
}

fn keep(node: &Node) -> Keep {
    match &node.data {
        NodeData::Text { contents } => {
            let contents = contents.borrow();
            match text::clean(&contents) {
                Cow::Borrowed("") => Keep::No,
                Cow::Borrowed(_) => Keep::Text(None),
                Cow::Owned(t) if t.is_empty() => Keep::No,
                Cow::Owned(t) => Keep::Text(Some(t)),
            }
        }
        NodeData::Element { name, attrs, .. } => {
            if name.ns != ns!(html)
                || DROPPED_WITH_CONTENT.contains(&&*name.local)
                || is_hidden(name, &attrs.borrow())
            {
                Keep::No
            } else {
                Keep::Element
            }
        }
        NodeData::Document
        | NodeData::Doctype { .. }
        | NodeData::Comment { .. }
        | NodeData::ProcessingInstruction { .. } => Keep::No,
    }
}

/// Whether an element is hidden from the person reading the editor: the `hidden` attribute (any
/// value, `until-found` included), `aria-hidden="true"`, an inline style that hides it (see
/// [`style::hides`]), or a `<dialog>` that is not `open`.
fn is_hidden(name: &QualName, attrs: &[Attribute]) -> bool {
    if &*name.local == "dialog" && !attrs.iter().any(|a| &*a.name.local == "open") {
        return true;
    }
    attrs.iter().any(|a| match &*a.name.local {
        "hidden" => true,
        "aria-hidden" => a.value.trim().eq_ignore_ascii_case("true"),
        "style" => style::hides(&a.value),
        _ => false,
    })
}

/// The text of a subtree, pruned by the same rules as [`prune`], with line breaks after
/// block-level elements. Iterative.
fn flatten(node: &Handle) -> String {
    enum Step {
        Visit(Handle),
        Close(bool),
    }
    let mut out = String::new();
    let mut steps: Vec<Step> = node
        .children
        .borrow()
        .iter()
        .rev()
        .map(|c| Step::Visit(c.clone()))
        .collect();
    while let Some(step) = steps.pop() {
        match step {
            Step::Close(line_break) => {
                if line_break && !out.ends_with('\n') {
                    out.push('\n');
                }
            }
            Step::Visit(child) => match keep(&child) {
                Keep::No => {}
                Keep::Text(cleaned) => {
                    if let Some(cleaned) = cleaned {
                        out.push_str(&cleaned);
                    } else if let NodeData::Text { contents } = &child.data {
                        out.push_str(&contents.borrow());
                    }
                }
                Keep::Element => {
                    let breaks = match &child.data {
                        NodeData::Element { name, .. } => LINE_BREAKING.contains(&&*name.local),
                        _ => false,
                    };
                    steps.push(Step::Close(breaks));
                    steps.extend(
                        child
                            .children
                            .borrow()
                            .iter()
                            .rev()
                            .map(|c| Step::Visit(c.clone())),
                    );
                }
            },
        }
    }
    out
}

/// Reshapes a pruned, sanitised tree so htmd's Markdown reads the way the editor looked:
///
/// * a `pre` keeps only its text (line breaks for `br`), inside one `code` element carrying
///   the language class — so every code block is fenced (htmd leaves a bare `pre` unfenced)
///   and its content is verbatim;
/// * inline `code` (outside `pre`) keeps only its text, on one line — a code span cannot hold
///   blocks, and a line break inside one could start a Markdown block — and goes when empty;
/// * a list item whose only block content is one paragraph (or `div`, as TipTap wraps task
///   items) loses that wrapper, so editor lists — every item a `<p>` — stay tight lists;
/// * a table without header cells gets its first row promoted to the header, so it becomes a
///   pipe table instead of loose paragraphs;
/// * a `br` with nothing visible before or after it in its block is removed (Markdown has no
///   hard break at the edge of a block: it would show as a literal `\`).
pub(crate) fn shape(root: &Handle) {
    let mut elements = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(node) = stack.pop() {
        if let NodeData::Element { .. } = node.data {
            elements.push(node.clone());
        }
        stack.extend(node.children.borrow().iter().rev().cloned());
    }
    for element in &elements {
        match tag(element) {
            Some("br") => drop_edge_break(element),
            Some("pre") => shape_pre(element),
            Some("code") => shape_inline_code(element),
            Some("li") => tighten_item(element),
            Some("table") => promote_header(element),
            _ => {}
        }
    }
}

fn tag(node: &Node) -> Option<&str> {
    match &node.data {
        NodeData::Element { name, .. } => Some(&name.local),
        _ => None,
    }
}

fn new_element(name: QualName, attrs: Vec<Attribute>) -> Handle {
    Node::new(NodeData::Element {
        name,
        attrs: RefCell::new(attrs),
        template_contents: Default::default(),
        mathml_annotation_xml_integration_point: false,
    })
}

fn new_text(text: String) -> Handle {
    Node::new(NodeData::Text {
        contents: RefCell::new(StrTendril::from(text)),
    })
}

fn set_children(parent: &Handle, children: Vec<Handle>) {
    for child in &children {
        child.parent.set(Some(Rc::downgrade(parent)));
    }
    let old = std::mem::replace(&mut *parent.children.borrow_mut(), children);
    drop(old);
}

fn shape_pre(pre: &Handle) {
    let language = {
        let children = pre.children.borrow();
        children
            .iter()
            .find(|c| tag(c) == Some("code"))
            .and_then(|code| match &code.data {
                NodeData::Element { attrs, .. } => attrs
                    .borrow()
                    .iter()
                    .find(|a| &*a.name.local == "class")
                    .cloned(),
                _ => None,
            })
    };
    let text = flatten(pre);
    let text = text.strip_suffix('\n').unwrap_or(&text).to_owned();
    let code = new_element(
        QualName::new(None, ns!(html), local_name!("code")),
        language.into_iter().collect(),
    );
    if !text.is_empty() {
        set_children(&code, vec![new_text(text)]);
    }
    set_children(pre, vec![code]);
}

fn shape_inline_code(code: &Handle) {
    let inside_pre = code
        .parent
        .take()
        .inspect(|p| code.parent.set(Some(p.clone())))
        .and_then(|p| p.upgrade())
        .is_some_and(|p| tag(&p) == Some("pre"));
    if inside_pre {
        return;
    }
    let text = flatten(code).replace('\n', " ");
    if text.trim().is_empty() {
        // htmd writes empty inline code as "``", which is no code span and pairs with the
        // next backtick run (swallowing links and escapes in between).
        if let Some(parent) = code.parent.take().and_then(|p| p.upgrade()) {
            parent
                .children
                .borrow_mut()
                .retain(|c| !Rc::ptr_eq(c, code));
        }
        return;
    }
    set_children(code, vec![new_text(text)]);
}

/// Whether a node shows anything: a text node with non-whitespace, or an element with such
/// text somewhere below.
fn shows_text(node: &Handle) -> bool {
    let mut stack = vec![node.clone()];
    while let Some(n) = stack.pop() {
        match &n.data {
            NodeData::Text { contents } if !contents.borrow().trim().is_empty() => return true,
            NodeData::Element { name, .. } if &*name.local == "hr" => return true,
            _ => stack.extend(n.children.borrow().iter().cloned()),
        }
    }
    false
}

fn tighten_item(li: &Handle) {
    loop {
        let children = li.children.borrow().clone();
        let mut content = children
            .iter()
            .filter(|c| !matches!(tag(c), Some("ul" | "ol")) && shows_text(c));
        let (Some(only), None) = (content.next(), content.next()) else {
            return;
        };
        if !matches!(tag(only), Some("p" | "div")) {
            return;
        }
        let only = only.clone();
        let mut spliced = Vec::with_capacity(children.len());
        for child in children {
            if Rc::ptr_eq(&child, &only) {
                spliced.extend(std::mem::take(&mut *only.children.borrow_mut()));
            } else {
                spliced.push(child);
            }
        }
        set_children(li, spliced);
    }
}

fn promote_header(table: &Handle) {
    let mut rows = Vec::new();
    let mut has_header = false;
    let mut stack = vec![table.clone()];
    while let Some(node) = stack.pop() {
        match tag(&node) {
            Some("th") => has_header = true,
            Some("tr") => rows.push(node.clone()),
            Some("table") if !Rc::ptr_eq(&node, table) => continue,
            _ => {}
        }
        stack.extend(node.children.borrow().iter().rev().cloned());
    }
    if has_header {
        return;
    }
    // `rows` is in document order: the stack visits children first to last.
    let Some(first) = rows.first() else {
        return;
    };
    let cells = first.children.borrow().clone();
    let promoted = cells
        .into_iter()
        .map(|cell| match &cell.data {
            NodeData::Element { name, attrs, .. } if &*name.local == "td" => {
                let th = new_element(
                    QualName::new(None, ns!(html), local_name!("th")),
                    attrs.borrow().clone(),
                );
                set_children(&th, std::mem::take(&mut *cell.children.borrow_mut()));
                th
            }
            _ => cell,
        })
        .collect();
    set_children(first, promoted);
}

/// Elements htmd renders inline; every other element starts a block.
const INLINE: &[&str] = &[
    "a", "abbr", "b", "cite", "code", "del", "em", "i", "ins", "kbd", "mark", "q", "s", "samp",
    "small", "span", "strike", "strong", "sub", "sup", "u", "var",
];

/// Removes a `br` that is the first or last visible thing of its block.
fn drop_edge_break(br: &Handle) {
    let mut node = br.clone();
    let mut leading = true;
    let mut trailing = true;
    loop {
        let Some(parent) = node.parent.take() else {
            return;
        };
        node.parent.set(Some(parent.clone()));
        let Some(parent) = parent.upgrade() else {
            return;
        };
        {
            let siblings = parent.children.borrow();
            let Some(at) = siblings.iter().position(|s| Rc::ptr_eq(s, &node)) else {
                return;
            };
            leading &= !siblings[..at].iter().any(shows_text);
            trailing &= !siblings[at + 1..].iter().any(shows_text);
        }
        if !(leading || trailing) {
            return;
        }
        if !tag(&parent).is_some_and(|t| INLINE.contains(&t)) {
            break;
        }
        node = parent;
    }
    if let Some(parent) = br.parent.take().and_then(|p| p.upgrade()) {
        parent.children.borrow_mut().retain(|c| !Rc::ptr_eq(c, br));
    }
}

/// Elements without content (an end tag never follows).
const VOID: &[&str] = &[
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img",
    "input", "keygen", "link", "meta", "param", "source", "track", "wbr",
];

/// Elements whose end tag may be omitted: a sibling closes them, so they do not nest on their
/// own (nesting them takes an element counted here, such as `ul` or `table`).
const SELF_CLOSING_SIBLINGS: &[&str] = &[
    "body", "caption", "colgroup", "dd", "dt", "head", "html", "li", "optgroup", "option", "p",
    "rb", "rp", "rt", "rtc", "tbody", "td", "tfoot", "th", "thead", "tr",
];

/// Elements whose content is text up to their own end tag.
const RAW_TEXT: &[&str] = &[
    "iframe", "noembed", "noframes", "noscript", "script", "style", "textarea", "title", "xmp",
];

/// A cheap, linear estimate of how deeply the parser will nest `html`'s elements: the largest
/// number of elements open at once, counting each start tag until its end tag (void elements
/// and elements closed by their siblings not counted; `/>` closes only inside SVG/MathML, as
/// in the parser). Meant to refuse pathological input *before* parsing it: html5ever spends
/// time proportional to the depth on every block start tag, so 40,000 unclosed `<div>`s take
/// quadratic time. Over-estimates are fine (the input is refused, legitimate editor output
/// nests a few dozen levels at most); the estimate never needs to be exact.
pub(crate) fn nesting_estimate(html: &str) -> usize {
    let bytes = html.as_bytes();
    let mut open: HashMap<String, usize> = HashMap::new();
    let mut total = 0usize;
    let mut max = 0usize;
    let mut foreign = 0usize;
    let mut i = 0;
    while let Some(at) = memchr_lt(&bytes[i..]) {
        i += at + 1;
        if bytes[i..].starts_with(b"!--") {
            i = find(bytes, i + 3, b"-->").map_or(bytes.len(), |e| e + 3);
            continue;
        }
        let closing = bytes.get(i) == Some(&b'/');
        let name_start = if closing { i + 1 } else { i };
        if !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        let name_end = bytes[name_start..]
            .iter()
            .position(|&b| b.is_ascii_whitespace() || b == b'/' || b == b'>')
            .map_or(bytes.len(), |p| name_start + p);
        let name = html[name_start..name_end].to_ascii_lowercase();
        let tag_end = bytes[name_end..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(bytes.len(), |p| name_end + p);
        let self_closed = tag_end > 0 && bytes.get(tag_end - 1) == Some(&b'/');
        i = (tag_end + 1).min(bytes.len());
        let name = name.as_str();
        if closing {
            if let Some(count) = open.get_mut(name).filter(|c| **c > 0) {
                *count -= 1;
                total -= 1;
                if matches!(name, "svg" | "math") {
                    foreign = foreign.saturating_sub(1);
                }
            }
            continue;
        }
        if name == "plaintext" {
            break;
        }
        if RAW_TEXT.contains(&name) {
            let end = format!("</{name}");
            i = find_ascii_ci(bytes, i, end.as_bytes()).unwrap_or(bytes.len());
            continue;
        }
        if VOID.contains(&name)
            || SELF_CLOSING_SIBLINGS.contains(&name)
            || (self_closed && foreign > 0)
        {
            continue;
        }
        // A new `a`, `button`, `nobr` or `form` closes (or is ignored inside) an open one.
        if matches!(name, "a" | "button" | "nobr" | "form")
            && open.get(name).is_some_and(|c| *c > 0)
        {
            continue;
        }
        if matches!(name, "svg" | "math") {
            foreign += 1;
        }
        *open.entry(name.to_owned()).or_default() += 1;
        total += 1;
        max = max.max(total);
    }
    max
}

fn memchr_lt(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'<')
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

fn find_ascii_ci(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| from + p)
}
