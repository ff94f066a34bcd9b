//! A report as an email that reads well in the clients people use: a plain-text part that stands
//! alone, and an HTML part with table layout, inline styles only, no SVG, scripts, `data:` URIs or
//! external images; charts are PNGs (2×, with width, height and alt text) attached inline and
//! referenced by Content-ID. The structure:
//!
//! ```text
//! multipart/alternative
//! ├── text/plain
//! └── multipart/related
//!     ├── text/html
//!     └── image/png (Content-ID) …
//! ```

use std::collections::BTreeMap;

use anyhow::Result;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

use super::helpers::{DrawnChart, Mode};
use super::templates::Library;
use super::{Prepared, inline_css, render};
use crate::error::user;

/// Gmail clips an HTML part past about 102 KB: stay under this.
pub const HTML_LIMIT: usize = 100 * 1024;

/// One chart attached inline.
#[derive(Debug, Clone)]
pub struct Image {
    pub cid: String,
    pub png: Vec<u8>,
}

/// The parts of a digest, the same for every recipient.
#[derive(Debug, Clone)]
pub struct Digest {
    pub subject: String,
    pub html: String,
    pub text: String,
    pub images: Vec<Image>,
}

/// Renders the email parts of a prepared template; fails, with the size, when the HTML part is
/// too large or holds anything a mail client would block.
pub fn build(lib: &Library, p: &Prepared) -> Result<Digest> {
    let text_src = p.text.as_ref().ok_or_else(|| {
        user(format!(
            "template `{}` has no plain-text part: an email needs report-templates/{}.txt.hbs beside {}",
            p.name, p.name, p.html.location
        ))
    })?;
    let mut drawn = BTreeMap::new();
    let mut text_charts = BTreeMap::new();
    let mut images = Vec::new();
    for c in &p.charts {
        let cid = format!("chart-{}@scudo", c.name);
        let alt = c.alt();
        drawn.insert(
            c.name.clone(),
            DrawnChart { alt: alt.clone(), width: c.width, height: c.height, svg: None, cid: Some(cid.clone()) },
        );
        text_charts.insert(c.name.clone(), DrawnChart { alt, width: c.width, height: c.height, svg: None, cid: None });
        images.push(Image { cid, png: c.png(2)? });
    }
    let html = inline_css(&render(lib, p, &p.html, Mode::Email, drawn)?, &p.html)?;
    check_html(&html, &p.html.location)?;
    let text = render(lib, p, text_src, Mode::Text, text_charts.clone())?;
    let subject_src = super::templates::Source {
        name: format!("{}.subject", p.name),
        text: p.front.subject.clone().unwrap_or_else(|| "{{title}} · {{date as_of}}".to_string()),
        location: format!("{} (front matter `subject`)", p.html.location),
        builtin: p.html.builtin,
    };
    let subject = render(lib, p, &subject_src, Mode::Text, text_charts)?.trim().replace(['\r', '\n'], " ");
    Ok(Digest { subject, html, text, images })
}

/// What no email HTML part may hold, and its size limit.
pub fn check_html(html: &str, location: &str) -> Result<()> {
    if html.len() > HTML_LIMIT {
        return Err(user(format!(
            "{location}: the email's HTML part is {} bytes ({:.1} KB), over the {} KB that Gmail shows unclipped; \
             show fewer rows (the queries' limits) or move detail to `scudo report`",
            html.len(),
            html.len() as f64 / 1024.0,
            HTML_LIMIT / 1024
        )));
    }
    let lower = html.to_ascii_lowercase();
    for (needle, why) in [
        ("<svg", "SVG (most mail clients do not show it; charts are attached as PNG)"),
        ("<script", "a script (mail clients remove them)"),
        ("data:", "a data: URI (Gmail and Outlook block them)"),
        ("src=\"http", "an external image (blocked by default, and it tracks the reader)"),
        ("src='http", "an external image (blocked by default, and it tracks the reader)"),
        ("<link", "a linked stylesheet (mail clients drop it)"),
    ] {
        if lower.contains(needle) {
            return Err(user(format!("{location}: the email's HTML holds {why}; remove it from the template")));
        }
    }
    Ok(())
}

/// The complete RFC 5322 message for one recipient, with its own Message-ID and the Date now.
pub fn message(d: &Digest, from: &str, reply_to: &str, to: &str, message_id: &str) -> Result<Vec<u8>> {
    message_with(d, from, reply_to, to, message_id, &[])
}

/// [`message`] with extra headers (a campaign's `List-Unsubscribe`, `List-Unsubscribe-Post`).
pub fn message_with(
    d: &Digest,
    from: &str,
    reply_to: &str,
    to: &str,
    message_id: &str,
    extra: &[(&'static str, String)],
) -> Result<Vec<u8>> {
    let mailbox = |v: &str, what: &str| -> Result<Mailbox> {
        v.parse().map_err(|e| user(format!("{what} `{v}` is not an email address ({e})")))
    };
    let mut b = lettre::Message::builder()
        .from(mailbox(from, "[smtp] from")?)
        .to(mailbox(to, "--to")?)
        .subject(d.subject.clone())
        .date_now()
        .message_id(Some(format!("<{message_id}>")));
    if !reply_to.trim().is_empty() {
        b = b.reply_to(mailbox(reply_to, "[smtp] reply_to")?);
    }
    for (name, value) in extra {
        use lettre::message::header::{HeaderName, HeaderValue};
        b = b.raw_header(HeaderValue::new(HeaderName::new_from_ascii_str(name), value.clone()));
    }
    let mut related = MultiPart::related().singlepart(SinglePart::html(d.html.clone()));
    for img in &d.images {
        let png = ContentType::parse("image/png").map_err(|e| anyhow::anyhow!("{e}"))?;
        related = related.singlepart(Attachment::new_inline(img.cid.clone()).body(img.png.clone(), png));
    }
    let body = MultiPart::alternative().singlepart(SinglePart::plain(d.text.clone())).multipart(related);
    let msg = b.multipart(body).map_err(|e| user(format!("cannot build the message: {e}")))?;
    Ok(msg.formatted())
}

/// A Message-ID for `key`: unique per build of the message, in the sender's domain.
pub fn message_id(key: &str, from: &str) -> String {
    use sha2::{Digest as _, Sha256};
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let hash = Sha256::digest(format!("{key}\n{nanos}\n{}", std::process::id()).as_bytes());
    let hex: String = hash.iter().take(12).map(|b| format!("{b:02x}")).collect();
    let domain = from
        .rsplit('@')
        .next()
        .map(|d| d.trim_end_matches('>').trim())
        .filter(|d| !d.is_empty() && from.contains('@'))
        .unwrap_or("scudo.localhost");
    format!("{hex}.digest@{domain}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_checks_name_what_is_wrong() {
        check_html("<table><tr><td>ok</td></tr></table>", "t.hbs").unwrap();
        for bad in ["<svg/>", "<img src=\"data:image/png;base64,x\">", "<img src=\"https://x/y.png\">", "<script>"] {
            assert!(check_html(bad, "t.hbs").is_err(), "{bad}");
        }
        let big = "x".repeat(HTML_LIMIT + 1);
        let e = check_html(&big, "t.hbs").unwrap_err().to_string();
        assert!(e.contains("102401 bytes"), "{e}");
    }

    #[test]
    fn message_ids_are_in_the_senders_domain() {
        let id = message_id("k", "Scudo <reports@shop.example>");
        assert!(id.ends_with(".digest@shop.example"), "{id}");
        assert_ne!(id, message_id("k", "reports@shop.example"));
    }
}
