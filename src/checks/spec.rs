//! What a check file declares: its header (severity, thresholds, denominator, owner) and that its
//! body is one read-only statement. Every problem names the file and the line.

use std::fmt;

/// The most a failure of a check can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warn,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warn => "warn",
            Severity::Error => "error",
        }
    }
}

/// A comparison in a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

/// `> 0`, `>= 10`, `> 1%`: when the failing rows are too many.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub op: Op,
    pub value: f64,
    /// The value is a percentage of the check's denominator.
    pub percent: bool,
}

impl Threshold {
    /// Parses `OP NUMBER[%]` (`!=` and `<>` are the same).
    pub fn parse(text: &str) -> Result<Threshold, String> {
        let t = text.trim();
        let (op, rest) = [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("!=", Op::Ne),
            ("<>", Op::Ne),
            (">", Op::Gt),
            ("<", Op::Lt),
            ("==", Op::Eq),
            ("=", Op::Eq),
        ]
        .iter()
        .find_map(|(s, op)| t.strip_prefix(s).map(|rest| (*op, rest.trim())))
        .ok_or_else(|| {
            format!("`{t}` is not a threshold: write a comparison and a number, such as `> 0`, `>= 10` or `> 1%`")
        })?;
        let (number, percent) = match rest.strip_suffix('%') {
            Some(n) => (n.trim(), true),
            None => (rest, false),
        };
        let value: f64 = number
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("`{t}`: `{number}` is not a number of rows or a percentage (0 or more)"))?;
        if percent && value > 100.0 {
            return Err(format!("`{t}`: a percentage is at most 100%"));
        }
        Ok(Threshold { op, value, percent })
    }

    /// Whether `failing` rows (of `denominator`, for a percentage) cross the threshold.
    pub fn holds(&self, failing: u64, denominator: Option<u64>) -> bool {
        let x = if self.percent {
            match denominator {
                Some(d) if d > 0 => failing as f64 * 100.0 / d as f64,
                _ => 0.0,
            }
        } else {
            failing as f64
        };
        match self.op {
            Op::Gt => x > self.value,
            Op::Ge => x >= self.value,
            Op::Lt => x < self.value,
            Op::Le => x <= self.value,
            Op::Eq => x == self.value,
            Op::Ne => x != self.value,
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "=",
            Op::Ne => "!=",
        };
        write!(f, "{op} {}{}", self.value, if self.percent { "%" } else { "" })
    }
}

/// One check, as its file declares it.
#[derive(Debug, Clone)]
pub struct Spec {
    /// `orders_amounts` for `queries/checks/orders_amounts.sql`.
    pub name: String,
    /// The file, for messages (`queries/checks/x.sql (built-in)` or the workspace path).
    pub location: String,
    pub description: String,
    pub owner: Option<String>,
    pub severity: Severity,
    pub warn_if: Threshold,
    pub error_if: Threshold,
    /// The table whose row count percentages are of.
    pub denominator: Option<String>,
    pub enabled: bool,
    pub sql: String,
    /// Why the check cannot run (`file:line: what`), when it cannot.
    pub problem: Option<String>,
}

/// The header keys a check file may use.
const KEYS: &[&str] =
    &["name", "description", "params", "columns", "severity", "warn_if", "error_if", "denominator", "owner", "enabled"];

/// Statements a check may start with.
const READING: &[&str] = &["SELECT", "WITH", "FROM", "VALUES", "TABLE", "("];

impl Spec {
    /// Reads the header and checks the body of the check file `sql`; a problem is recorded in
    /// `problem`, never raised, so the other checks still run.
    pub fn parse(name: &str, location: &str, sql: &str) -> Spec {
        let mut spec = Spec {
            name: name.to_string(),
            location: location.to_string(),
            description: String::new(),
            owner: None,
            severity: Severity::Error,
            warn_if: Threshold { op: Op::Gt, value: 0.0, percent: false },
            error_if: Threshold { op: Op::Gt, value: 0.0, percent: false },
            denominator: None,
            enabled: true,
            sql: sql.to_string(),
            problem: None,
        };
        if let Err((line, what)) = spec.read_header(sql).and_then(|()| one_reading_statement(sql)) {
            spec.problem = Some(format!("{location}:{line}: {what}"));
        }
        spec
    }

    fn read_header(&mut self, sql: &str) -> Result<(), (usize, String)> {
        let mut in_columns = false;
        let mut percent_at = None;
        for (i, line) in sql.lines().enumerate() {
            let n = i + 1;
            let Some(comment) = line.trim_start().strip_prefix("--") else {
                if line.trim().is_empty() {
                    continue;
                }
                break;
            };
            let comment = comment.trim();
            let Some((key, value)) = header_key(comment) else { continue };
            if in_columns && !KEYS.contains(&key) {
                continue;
            }
            in_columns = key == "columns";
            let value = value.trim();
            match key {
                "description" => self.description = value.to_string(),
                "owner" => self.owner = Some(value.to_string()).filter(|o| !o.is_empty()),
                "severity" => {
                    self.severity = match value.to_ascii_lowercase().as_str() {
                        "warn" | "warning" => Severity::Warn,
                        "error" => Severity::Error,
                        other => return Err((n, format!("severity `{other}`: write `warn` or `error`"))),
                    }
                }
                "warn_if" | "error_if" => {
                    let t = Threshold::parse(value).map_err(|e| (n, format!("{key}: {e}")))?;
                    if t.percent {
                        percent_at.get_or_insert(n);
                    }
                    if key == "warn_if" {
                        self.warn_if = t;
                    } else {
                        self.error_if = t;
                    }
                }
                "denominator" => {
                    let ok = !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if !ok {
                        return Err((
                            n,
                            format!("denominator `{value}`: name a table, such as `orders` or `customers`"),
                        ));
                    }
                    self.denominator = Some(value.to_string());
                }
                "enabled" => {
                    self.enabled = crate::ingest::values::parse_bool(value)
                        .ok_or_else(|| (n, format!("enabled `{value}`: write true or false")))?;
                }
                "name" | "params" | "columns" => {}
                other => {
                    return Err((
                        n,
                        format!("unknown header `{other}`; a check's header may say: {}", KEYS.join(", ")),
                    ));
                }
            }
        }
        if let Some(n) = percent_at
            && self.denominator.is_none()
        {
            return Err((
                n,
                "a threshold in percent needs `-- denominator: TABLE` (the table the percentage is of)".to_string(),
            ));
        }
        Ok(())
    }
}

/// `key: value` when the comment starts with a lower-case header key.
fn header_key(comment: &str) -> Option<(&str, &str)> {
    let (key, value) = comment.split_once(':')?;
    let ok = !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    ok.then_some((key, value))
}

/// The body must be one statement that reads (SELECT, WITH, …): checks never change data.
/// Returns the line and the reason when it is not.
pub fn one_reading_statement(sql: &str) -> Result<(), (usize, String)> {
    let tokens = statements(sql);
    let Some(first) = tokens.first() else {
        return Err((1, "the file has no SQL statement: a check is one SELECT returning the failing rows".into()));
    };
    if let Some(second) = tokens.get(1) {
        return Err((
            second.1,
            "a second statement: a check is one SELECT returning the failing rows (remove the `;` and what follows)"
                .into(),
        ));
    }
    let word = first.0.to_ascii_uppercase();
    if !READING.contains(&word.as_str()) {
        return Err((
            first.1,
            format!(
                "a check must read, not change, data: `{}` is not allowed (write one SELECT returning the failing rows)",
                first.0
            ),
        ));
    }
    Ok(())
}

/// The first word and its line of each statement in `sql`, skipping comments and quoted text.
fn statements(sql: &str) -> Vec<(String, usize)> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out: Vec<(String, usize)> = Vec::new();
    let (mut i, mut line, mut want_word) = (0, 1, true);
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                if chars[i] == '\n' {
                    line += 1;
                }
                i += 1;
            }
            i += 2;
        } else if c == '\'' || c == '"' {
            if want_word {
                out.push((c.to_string(), line));
                want_word = false;
            }
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\n' {
                    line += 1;
                }
                i += 1;
            }
            i += 1;
        } else if c == ';' {
            want_word = true;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if want_word {
            let start = i;
            if c == '(' {
                i += 1;
            } else {
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                if i == start {
                    i += 1;
                }
            }
            out.push((chars[start..i].iter().collect(), line));
            want_word = false;
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_parse_and_compare() {
        let t = Threshold::parse(">= 10").unwrap();
        assert!(t.holds(10, None) && !t.holds(9, None));
        let p = Threshold::parse("> 1%").unwrap();
        assert!(p.holds(2, Some(100)) && !p.holds(1, Some(100)));
        assert!(!p.holds(5, Some(0)), "no rows to be a percentage of: nothing crosses");
        assert!(Threshold::parse("!= 0").unwrap().holds(1, None));
        assert!(Threshold::parse("<> 0").unwrap().holds(1, None));
        assert_eq!(Threshold::parse(" >0 ").unwrap().to_string(), "> 0");
        for bad in ["", "10", "> ten", "> -1", "> 101%", "~ 3", "> NaN", "> inf"] {
            assert!(Threshold::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn header_sets_severity_thresholds_and_owner() {
        let s = Spec::parse(
            "x",
            "x.sql",
            "-- description: d\n-- severity: warn\n-- warn_if: >= 3\n-- error_if: > 5%\n-- denominator: orders\n-- owner: ops\nSELECT 1",
        );
        assert_eq!(s.problem, None);
        assert_eq!(s.severity, Severity::Warn);
        assert_eq!(s.warn_if.to_string(), ">= 3");
        assert!(s.error_if.percent);
        assert_eq!(s.owner.as_deref(), Some("ops"));
        assert_eq!(s.denominator.as_deref(), Some("orders"));
    }

    #[test]
    fn problems_name_the_line() {
        let cases = [
            ("-- description: d\n-- warn_if: about ten\nSELECT 1", "x.sql:2: warn_if"),
            ("-- severity: fatal\nSELECT 1", "x.sql:1: severity `fatal`"),
            ("-- eror_if: > 0\nSELECT 1", "x.sql:1: unknown header `eror_if`"),
            ("-- error_if: > 1%\nSELECT 1", "x.sql:1: a threshold in percent needs"),
            ("-- description: d\n\nDELETE FROM orders", "x.sql:3: a check must read"),
            ("SELECT 1;\nSELECT 2", "x.sql:2: a second statement"),
            ("-- only comments", "x.sql:1: the file has no SQL"),
        ];
        for (sql, want) in cases {
            let s = Spec::parse("x", "x.sql", sql);
            let got = s.problem.unwrap_or_default();
            assert!(got.starts_with(want), "{sql:?}: {got}");
        }
    }

    #[test]
    fn quoted_semicolons_and_trailing_semicolon_are_one_statement() {
        assert!(one_reading_statement("SELECT ';' AS a, \"x;y\" FROM t;\n").is_ok());
        assert!(one_reading_statement("WITH a AS (SELECT 1) SELECT * FROM a -- ; DROP\n").is_ok());
        assert!(one_reading_statement("/* ; */ (SELECT 1)").is_ok());
        assert!(one_reading_statement("select 1; insert into t values (1)").is_err());
        assert!(
            one_reading_statement("WITH x AS (SELECT 1) DELETE FROM t").is_ok(),
            "caught by the read-only connection"
        );
    }

    #[test]
    fn column_notes_are_not_header_keys() {
        let s = Spec::parse("x", "x.sql", "-- columns:\n--   kind    a kind: of thing\n--   n\n-- owner: me\nSELECT 1");
        assert_eq!(s.problem, None);
        assert_eq!(s.owner.as_deref(), Some("me"));
    }

    proptest::proptest! {
        #[test]
        fn any_file_parses_without_panicking(sql in "(--[ a-z_:%<>=!0-9.]{0,20}\n){0,4}[ -~\n;'\"]{0,60}") {
            let s = Spec::parse("x", "x.sql", &sql);
            if let Some(p) = s.problem {
                proptest::prop_assert!(p.starts_with("x.sql:"));
            }
        }

        #[test]
        fn any_threshold_text_is_parsed_or_refused(t in "[ <>=!%0-9.a-z-]{0,12}") {
            if let Ok(th) = Threshold::parse(&t) {
                proptest::prop_assert!(Threshold::parse(&th.to_string()).is_ok());
            }
        }
    }
}
