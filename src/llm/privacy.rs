//! Privacy by default: customers leave the machine only as stable placeholders ("Customer A"),
//! and the text the model writes gets the real names back before it is printed.

/// The placeholders of one request, in order of first appearance.
#[derive(Debug, Default, Clone)]
pub struct Placeholders {
    /// (customer id, real name, label)
    people: Vec<(String, String, String)>,
}

impl Placeholders {
    /// The label of customer `id` (the same id always gets the same label).
    pub fn label(&mut self, id: &str, name: &str) -> String {
        if let Some((_, _, l)) = self.people.iter().find(|(i, _, _)| i == id) {
            return l.clone();
        }
        let label = format!("Customer {}", letters(self.people.len()));
        self.people.push((id.to_string(), name.to_string(), label.clone()));
        label
    }

    /// `text` with every label replaced by the customer's real name.
    pub fn restore(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find("Customer ") {
            out.push_str(&rest[..at]);
            let tail = &rest[at + 9..];
            let n = tail.bytes().take_while(u8::is_ascii_uppercase).count();
            let whole = tail.as_bytes().get(n).is_none_or(|c| !c.is_ascii_alphanumeric());
            let label = &rest[at..at + 9 + n];
            match self.people.iter().find(|(_, _, l)| l == label) {
                Some((_, name, _)) if n > 0 && whole => out.push_str(name),
                _ => out.push_str(label),
            }
            rest = &rest[at + 9 + n..];
        }
        out.push_str(rest);
        out
    }

    /// How much of the end of `text` could still grow into a label: stream chunks are
    /// restored up to there, and the rest waits for the next chunk.
    pub fn hold_back(text: &str) -> usize {
        const WORD: &str = "Customer ";
        // The last `C` that starts a word (the `C` of `Customer AC` does not).
        let mut starts = text
            .match_indices('C')
            .map(|(at, _)| at)
            .filter(|&at| text[..at].chars().next_back().is_none_or(|c| !c.is_alphanumeric()));
        if let Some(at) = starts.next_back() {
            let tail = &text[at..];
            if WORD.starts_with(tail) {
                return tail.len();
            }
            if let Some(l) = tail.strip_prefix(WORD)
                && l.bytes().all(|c| c.is_ascii_uppercase())
            {
                return tail.len();
            }
        }
        0
    }
}

/// 0 → A, 25 → Z, 26 → AA: labels without digits, so the number checker never sees them.
fn letters(mut n: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (n % 26) as u8);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII")
}

/// Restores labels in a stream of chunks, holding back a label cut between two chunks.
#[derive(Debug)]
pub struct Restorer<'a> {
    places: &'a Placeholders,
    pending: String,
}

impl<'a> Restorer<'a> {
    pub fn new(places: &'a Placeholders) -> Restorer<'a> {
        Restorer { places, pending: String::new() }
    }

    /// The text of `chunk` that can be printed now, names restored.
    pub fn push(&mut self, chunk: &str) -> String {
        self.pending.push_str(chunk);
        let keep = Placeholders::hold_back(&self.pending);
        let ready: String = self.pending.drain(..self.pending.len() - keep).collect();
        self.places.restore(&ready)
    }

    /// The rest, at the end of the stream.
    pub fn finish(&mut self) -> String {
        let rest = std::mem::take(&mut self.pending);
        self.places.restore(&rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_stable_and_restored_across_chunks() {
        let mut p = Placeholders::default();
        assert_eq!(p.label("c6", "Lisa Thompson"), "Customer A");
        assert_eq!(p.label("c7", "Mike Johnson"), "Customer B");
        assert_eq!(p.label("c6", "Lisa Thompson"), "Customer A");
        assert_eq!(letters(26), "AA");
        assert_eq!(Placeholders::hold_back("x Customer AC"), 11);
        assert_eq!(
            p.restore("Customer A and Customer B, not Customer AZ or Customer Ax."),
            "Lisa Thompson and Mike Johnson, not Customer AZ or Customer Ax."
        );
        let text = "Call Customer B today; Customer A spent more.";
        for cut in 1..text.len() {
            let mut r = Restorer::new(&p);
            let mut out = r.push(&text[..cut]);
            out += &r.push(&text[cut..]);
            out += &r.finish();
            assert_eq!(out, "Call Mike Johnson today; Lisa Thompson spent more.", "cut at {cut}");
        }
    }
}
