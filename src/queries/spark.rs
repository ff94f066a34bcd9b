//! Query files as Spark SQL (`scudo sql --dialect spark`): the table macros inlined, the
//! parameters bound as literals, and a short, explicit list of rewrites for what DuckDB and Spark
//! spell differently. Everything else passes through unchanged, so the built-in queries are kept
//! in a portable subset (docs/queries.md) and every generated query is checked against DuckDB's
//! rows by running it on Spark (tests/cli/spark.rs).
//!
//! The translation works on tokens, not text: strings, quoted names and comments are never
//! rewritten by accident. A construct without a faithful Spark spelling is an error naming it
//! ([`Unportable`]), never a silent guess.

use std::collections::HashMap;

use super::{Catalog, QueryFile};
use crate::store::Param;

/// Why a query has no Spark translation.
#[derive(Debug, Clone, PartialEq)]
pub struct Unportable(pub String);

impl std::fmt::Display for Unportable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The rewrites applied, in order, for the Spark dialect (printed by `scudo sql --help` and
/// documented in docs/queries.md).
pub const REWRITES: &[(&str, &str)] = &[
    ("WITH x AS MATERIALIZED (…)", "WITH x AS (…)"),
    ("date_diff('day', a, b)", "datediff(DAY, a, b)"),
    ("CAST(x AS VARCHAR), x::VARCHAR, TEXT", "STRING"),
    ("regexp_full_match(s, p)", "s RLIKE '^(?:p)$'"),
    (
        "list(DISTINCT x ORDER BY x), list(DISTINCT x), list(x)",
        "array_sort(collect_set(x)), collect_set(x), collect_list(x), each NULL over no values (as list())",
    ),
    ("list_sort(l)", "array_sort(l)"),
    ("string_agg(x, sep ORDER BY y)", "listagg(x, sep) WITHIN GROUP (ORDER BY y)"),
    ("unnest(range(a, b))", "explode(sequence(a, b - 1))"),
    ("FROM t, unnest(t.l) AS u(c)", "FROM t, LATERAL explode(t.l) AS u(c)"),
    ("unnest(l) in a select list", "explode(l)"),
    ("strftime(x, '%Y-%m-%d')", "date_format(x, 'yyyy-MM-dd')"),
    ("arg_min(v, k), arg_max(v, k)", "min_by(v, k), max_by(v, k)"),
    ("list_has_any(a, b), array_to_string(l, s)", "arrays_overlap(a, b), array_join(l, s)"),
    ("INTERVAL (n) MONTH, INTERVAL (n) DAY", "make_ym_interval(0, n), make_dt_interval(n)"),
    ("FROM t, range(a, t.b) AS r(i)", "FROM t, LATERAL explode(sequence(a, t.b - 1)) AS r(i)"),
    ("[a, b] (a list literal)", "array(a, b)"),
    ("\"name\" (a quoted name)", "`name`"),
    ("'it''s' (a string)", "'it\\'s'"),
];

/// Constructs refused with the reason (the query is listed as skipped).
const REFUSED: &[(&str, &str)] = &[
    ("jaro_winkler_similarity", "fuzzy matching (Jaro-Winkler) is DuckDB-only: interactive search stays in scudo"),
    ("getvariable", "getvariable() reads a DuckDB session variable"),
    ("epoch", "epoch() of an interval (Spark has no interval-to-seconds); write date_diff('second', a, b)"),
    ("to_minutes", "to_minutes() (an interval from a number); write make_dt_interval(0, 0, n) in a Spark-only query"),
];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    /// A double-quoted name, unquoted.
    Quoted(String),
    /// A string literal's value.
    Str(String),
    Num(String),
    Param(String),
    Punct(String),
    Space(String),
}

impl Tok {
    fn is_word(&self, w: &str) -> bool {
        matches!(self, Tok::Word(x) if x.eq_ignore_ascii_case(w))
    }
    fn is_punct(&self, p: &str) -> bool {
        matches!(self, Tok::Punct(x) if x == p)
    }
}

fn tokenize(sql: &str) -> Result<Vec<Tok>, Unportable> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            let start = i;
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            out.push(Tok::Space(chars[start..i].iter().collect()));
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
            out.push(Tok::Space(" ".into()));
        } else if c == '\'' || c == '"' {
            let mut value = String::new();
            i += 1;
            loop {
                let Some(&d) = chars.get(i) else {
                    return Err(Unportable(format!("unterminated {c}…{c}")));
                };
                i += 1;
                if d == c {
                    if chars.get(i) == Some(&c) {
                        value.push(c);
                        i += 1;
                        continue;
                    }
                    break;
                }
                value.push(d);
            }
            out.push(if c == '\'' { Tok::Str(value) } else { Tok::Quoted(value) });
        } else if c == '$' && chars.get(i + 1).is_some_and(|d| d.is_alphabetic() || *d == '_') {
            let start = i + 1;
            i += 1;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Param(chars[start..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Word(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                i += 1;
                if i < chars.len() && (chars[i] == '-' || chars[i] == '+') {
                    i += 1;
                }
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            out.push(Tok::Num(chars[start..i].iter().collect()));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            if ["::", ":=", "||", "<=", ">=", "<>", "!=", "=>", "->"].contains(&two.as_str()) {
                out.push(Tok::Punct(two));
                i += 2;
            } else {
                out.push(Tok::Punct(c.to_string()));
                i += 1;
            }
        }
    }
    Ok(out)
}

fn render(toks: &[Tok]) -> String {
    let mut s = String::new();
    for t in toks {
        match t {
            Tok::Word(w) | Tok::Num(w) | Tok::Punct(w) | Tok::Space(w) => s.push_str(w),
            Tok::Quoted(q) => {
                s.push('`');
                s.push_str(&q.replace('`', "``"));
                s.push('`');
            }
            Tok::Str(v) => {
                s.push('\'');
                s.push_str(&v.replace('\\', "\\\\").replace('\'', "\\'"));
                s.push('\'');
            }
            Tok::Param(p) => {
                s.push('$');
                s.push_str(p);
            }
        }
    }
    s
}

/// The next token that is not space, from `i` on.
fn next_sig(toks: &[Tok], i: usize) -> Option<usize> {
    (i..toks.len()).find(|&j| !matches!(toks[j], Tok::Space(_)))
}

/// The last token that is not space, before `i`.
fn prev_sig(toks: &[Tok], i: usize) -> Option<usize> {
    (0..i).rev().find(|&j| !matches!(toks[j], Tok::Space(_)))
}

/// The index of the `)` closing the `(` at `open`.
fn closing(toks: &[Tok], open: usize) -> Result<usize, Unportable> {
    let mut depth = 0i32;
    for (j, t) in toks.iter().enumerate().skip(open) {
        match t {
            Tok::Punct(p) if p == "(" || p == "[" || p == "{" => depth += 1,
            Tok::Punct(p) if p == ")" || p == "]" || p == "}" => {
                depth -= 1;
                if depth == 0 {
                    return Ok(j);
                }
            }
            _ => {}
        }
    }
    Err(Unportable("unbalanced parentheses".into()))
}

/// Splits `toks` at top-level commas.
fn split_args(toks: &[Tok]) -> Vec<Vec<Tok>> {
    let mut args = vec![Vec::new()];
    let mut depth = 0i32;
    for t in toks {
        match t {
            Tok::Punct(p) if p == "(" || p == "[" || p == "{" => depth += 1,
            Tok::Punct(p) if p == ")" || p == "]" || p == "}" => depth -= 1,
            Tok::Punct(p) if p == "," && depth == 0 => {
                args.push(Vec::new());
                continue;
            }
            _ => {}
        }
        args.last_mut().expect("one").push(t.clone());
    }
    if args.len() == 1 && args[0].iter().all(|t| matches!(t, Tok::Space(_))) {
        return Vec::new();
    }
    args
}

fn trim(toks: &[Tok]) -> Vec<Tok> {
    let start = toks.iter().position(|t| !matches!(t, Tok::Space(_))).unwrap_or(toks.len());
    let end = toks.iter().rposition(|t| !matches!(t, Tok::Space(_))).map_or(start, |e| e + 1);
    toks[start..end.max(start)].to_vec()
}

/// The position of a top-level `ORDER BY` in `toks`.
fn top_order_by(toks: &[Tok]) -> Option<usize> {
    let mut depth = 0i32;
    for (j, t) in toks.iter().enumerate() {
        match t {
            Tok::Punct(p) if p == "(" => depth += 1,
            Tok::Punct(p) if p == ")" => depth -= 1,
            Tok::Word(_)
                if depth == 0 && t.is_word("ORDER") && next_sig(toks, j + 1).is_some_and(|k| toks[k].is_word("BY")) =>
            {
                return Some(j);
            }
            _ => {}
        }
    }
    None
}

fn words(s: &str) -> Vec<Tok> {
    tokenize(s).expect("a fixed fragment")
}

/// A table macro: its parameters (with defaults) and its body.
struct Macro {
    params: Vec<(String, Option<Vec<Tok>>)>,
    body: Vec<Tok>,
}

fn parse_macro(f: &QueryFile) -> Result<(String, Macro), Unportable> {
    let toks = tokenize(&f.sql)?;
    let at = toks.iter().position(|t| t.is_word("MACRO")).ok_or_else(|| Unportable("no MACRO".into()))?;
    let name_at = next_sig(&toks, at + 1).ok_or_else(|| Unportable("no macro name".into()))?;
    let Tok::Word(name) = &toks[name_at] else { return Err(Unportable("no macro name".into())) };
    let open = next_sig(&toks, name_at + 1)
        .filter(|&o| toks[o].is_punct("("))
        .ok_or_else(|| Unportable(format!("{}: macro {name} has no parameter list", f.location())))?;
    let close = closing(&toks, open)?;
    let mut params = Vec::new();
    for arg in split_args(&toks[open + 1..close]) {
        let arg = trim(&arg);
        let Some(Tok::Word(p)) = arg.first() else { continue };
        let default = arg.iter().position(|t| t.is_punct(":=")).map(|k| trim(&arg[k + 1..]));
        params.push((p.to_lowercase(), default));
    }
    // `AS TABLE query` (a table macro) or `AS expression` (a scalar one), to the end (a trailing
    // `;` dropped); either is inlined in parentheses.
    let as_at = next_sig(&toks, close + 1)
        .filter(|&j| toks[j].is_word("AS"))
        .ok_or_else(|| Unportable(format!("{}: macro {name} has no AS", f.location())))?;
    let start = match next_sig(&toks, as_at + 1) {
        Some(t) if toks[t].is_word("TABLE") => t + 1,
        _ => as_at + 1,
    };
    let mut body = trim(&toks[start..]);
    while body.last().is_some_and(|t| t.is_punct(";")) {
        body.pop();
        body = trim(&body);
    }
    Ok((name.to_lowercase(), Macro { params, body }))
}

/// One query in Spark SQL, its parameters bound.
pub struct Translator {
    macros: HashMap<String, Macro>,
    uses: std::cell::Cell<usize>,
}

impl Translator {
    pub fn new(catalog: &Catalog) -> Result<Translator, Unportable> {
        let mut macros = HashMap::new();
        for f in catalog.files.iter().filter(|f| f.is_macro) {
            let (name, m) = parse_macro(f)?;
            macros.insert(name, m);
        }
        Ok(Translator { macros, uses: std::cell::Cell::new(0) })
    }

    /// `sql` (a query file's text) as Spark SQL, with `params` bound as literals.
    pub fn translate(&self, sql: &str, params: &[(String, Param)]) -> Result<String, Unportable> {
        let toks = tokenize(sql)?;
        let toks = bind(&toks, params)?;
        let toks = self.inline(toks, 0)?;
        let toks = spark(toks)?;
        let text = render(&trim(&toks));
        let text = text.trim_end().trim_end_matches(';').trim_end();
        Ok(format!("{text}\n"))
    }

    /// Replaces every macro call with its body, parameters substituted and its CTEs renamed
    /// (`staged` → `staged__m3`), so that two uses never share a name nor capture an argument's.
    fn inline(&self, toks: Vec<Tok>, depth: usize) -> Result<Vec<Tok>, Unportable> {
        if depth > 16 {
            return Err(Unportable("macros call each other too deeply".into()));
        }
        let mut out = Vec::with_capacity(toks.len());
        let mut i = 0;
        while i < toks.len() {
            let call = match &toks[i] {
                Tok::Word(w) => self.macros.get(&w.to_lowercase()).filter(|_| {
                    !prev_sig(&toks, i).is_some_and(|p| toks[p].is_punct("."))
                        && next_sig(&toks, i + 1).is_some_and(|n| toks[n].is_punct("("))
                }),
                _ => None,
            };
            let Some(m) = call else {
                out.push(toks[i].clone());
                i += 1;
                continue;
            };
            let open = next_sig(&toks, i + 1).expect("checked");
            let close = closing(&toks, open)?;
            let name = render(&toks[i..=i]);
            let mut bound: HashMap<String, Vec<Tok>> = HashMap::new();
            let mut positional = 0;
            for arg in split_args(&toks[open + 1..close]) {
                let arg = trim(&arg);
                let named = match (arg.first(), next_sig(&arg, 1)) {
                    (Some(Tok::Word(p)), Some(k)) if arg[k].is_punct(":=") => Some((p.to_lowercase(), k)),
                    _ => None,
                };
                if let Some((p, k)) = named {
                    bound.insert(p, trim(&arg[k + 1..]));
                } else {
                    let Some((p, _)) = m.params.get(positional) else {
                        return Err(Unportable(format!("{name}() takes {} arguments", m.params.len())));
                    };
                    bound.insert(p.clone(), arg);
                    positional += 1;
                }
            }
            for (p, default) in &m.params {
                if !bound.contains_key(p) {
                    let d = default.clone().ok_or_else(|| Unportable(format!("{name}(): no value for {p}")))?;
                    bound.insert(p.clone(), d);
                }
            }
            self.uses.set(self.uses.get() + 1);
            let body = substitute(&m.body, &bound, self.uses.get());
            out.push(Tok::Punct("(".into()));
            out.extend(self.inline(body, depth + 1)?);
            out.push(Tok::Punct(")".into()));
            i = close + 1;
        }
        Ok(out)
    }
}

fn substitute(body: &[Tok], bound: &HashMap<String, Vec<Tok>>, use_no: usize) -> Vec<Tok> {
    // CTE names: `WITH name AS (` or `, name AS (` (MATERIALIZED allowed).
    let mut ctes = Vec::new();
    for (j, t) in body.iter().enumerate() {
        let Tok::Word(w) = t else { continue };
        let before = prev_sig(body, j).map(|p| &body[p]);
        let after = next_sig(body, j + 1);
        let is_cte = matches!(before, Some(b) if b.is_word("WITH") || b.is_word("RECURSIVE") || b.is_punct(","))
            && after.is_some_and(|a| body[a].is_word("AS"))
            && next_sig(body, after.unwrap_or(0) + 1)
                .is_some_and(|k| body[k].is_punct("(") || body[k].is_word("MATERIALIZED") || body[k].is_word("NOT"));
        if is_cte {
            ctes.push(w.to_lowercase());
        }
    }
    let mut out = Vec::with_capacity(body.len());
    for (j, t) in body.iter().enumerate() {
        if let Tok::Word(w) = t {
            let lower = w.to_lowercase();
            let qualified = prev_sig(body, j).is_some_and(|p| body[p].is_punct("."));
            let next = next_sig(body, j + 1).map(|n| &body[n]);
            if !qualified && ctes.contains(&lower) && !next.is_some_and(|n| n.is_punct("(")) {
                out.push(Tok::Word(format!("{w}__m{use_no}")));
                continue;
            }
            if !qualified
                && !next.is_some_and(|n| n.is_punct(":=") || n.is_punct("("))
                && let Some(value) = bound.get(&lower)
            {
                out.push(Tok::Punct("(".into()));
                out.extend(value.iter().cloned());
                out.push(Tok::Punct(")".into()));
                continue;
            }
        }
        out.push(t.clone());
    }
    out
}

/// `$name` → a literal of its value.
fn bind(toks: &[Tok], params: &[(String, Param)]) -> Result<Vec<Tok>, Unportable> {
    let mut out = Vec::with_capacity(toks.len());
    for t in toks {
        let Tok::Param(name) = t else {
            out.push(t.clone());
            continue;
        };
        let value = params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| Unportable(format!("needs --param {name}=…")))?;
        match value {
            Param::Text(s) => out.push(Tok::Str(s.clone())),
            Param::Int(n) => out.push(Tok::Num(n.to_string())),
            // A DOUBLE, as DuckDB binds it (a bare 1.2 is a DECIMAL in Spark).
            Param::Float(x) => out.extend(words(&format!("CAST({x:?} AS DOUBLE)"))),
            Param::Bool(b) => out.push(Tok::Word(if *b { "TRUE" } else { "FALSE" }.into())),
            Param::Null => out.push(Tok::Word("NULL".into())),
        }
    }
    Ok(out)
}

/// strftime's `%Y-%m-%d` as a Java date pattern.
fn java_pattern(fmt: &str) -> Result<String, Unportable> {
    let mut out = String::new();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            if c.is_alphabetic() {
                out.push('\'');
                out.push(c);
                out.push('\'');
            } else {
                out.push(c);
            }
            continue;
        }
        let mut spec = chars.next();
        let unpadded = spec == Some('-');
        if unpadded {
            spec = chars.next();
        }
        out.push_str(match (spec, unpadded) {
            (Some('Y'), false) => "yyyy",
            (Some('y'), false) => "yy",
            (Some('m'), false) => "MM",
            (Some('m'), true) => "M",
            (Some('d'), false) => "dd",
            (Some('d'), true) => "d",
            (Some('H'), false) => "HH",
            (Some('H'), true) => "H",
            (Some('M'), false) => "mm",
            (Some('S'), false) => "ss",
            (Some('b'), false) => "MMM",
            (Some('B'), false) => "MMMM",
            (Some('%'), false) => "%",
            (other, _) => {
                let dash = if unpadded { "-" } else { "" };
                return Err(Unportable(format!("strftime pattern %{dash}{}", other.unwrap_or(' '))));
            }
        });
    }
    Ok(out)
}

/// The Spark rewrites (REWRITES), one pass.
fn spark(toks: Vec<Tok>) -> Result<Vec<Tok>, Unportable> {
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let call_open = next_sig(&toks, i + 1).filter(|&o| toks[o].is_punct("("));
        let prev = prev_sig(&toks, i).map(|p| toks[p].clone());
        match t {
            Tok::Word(w) => {
                let lower = w.to_lowercase();
                if let Some((_, why)) = REFUSED.iter().find(|(f, _)| *f == lower).filter(|_| call_open.is_some()) {
                    return Err(Unportable((*why).to_string()));
                }
                if lower == "rowid" && call_open.is_none() {
                    return Err(Unportable("rowid (DuckDB's physical row number) has no Spark equivalent".into()));
                }
                if lower == "asof" {
                    return Err(Unportable(
                        "ASOF JOIN (the nearest earlier row) has no Spark spelling; join on a range instead".into(),
                    ));
                }
                if lower == "interval"
                    && let Some(open) = call_open
                {
                    let close = closing(&toks, open)?;
                    let unit_at = next_sig(&toks, close + 1);
                    let unit = unit_at.map(|u| render(&toks[u..=u]).to_uppercase()).unwrap_or_default();
                    let n = toks[open + 1..close].to_vec();
                    let mut v = match unit.trim_end_matches('S') {
                        "YEAR" => words("make_ym_interval("),
                        "MONTH" => words("make_ym_interval(0, "),
                        "DAY" => words("make_dt_interval("),
                        "HOUR" => words("make_dt_interval(0, "),
                        _ => return Err(Unportable(format!("INTERVAL (…) {unit}"))),
                    };
                    v.extend(n);
                    v.push(Tok::Punct(")".into()));
                    out.extend(spark(v)?);
                    i = unit_at.expect("a unit") + 1;
                    continue;
                }
                if lower == "materialized" && prev.as_ref().is_some_and(|p| p.is_word("AS") || p.is_word("NOT")) {
                    if prev.as_ref().is_some_and(|p| p.is_word("NOT")) {
                        // `AS NOT MATERIALIZED`: drop the NOT already written.
                        if let Some(p) = out.iter().rposition(|t| t.is_word("NOT")) {
                            out.truncate(p);
                        }
                    }
                    i += 1;
                    if matches!(toks.get(i), Some(Tok::Space(_))) {
                        i += 1;
                    }
                    continue;
                }
                if (lower == "varchar" || lower == "text")
                    && prev.as_ref().is_some_and(|p| p.is_punct("::") || p.is_word("AS"))
                    && (prev.as_ref().is_some_and(|p| p.is_punct("::"))
                        || next_sig(&toks, i + 1).is_some_and(|n| toks[n].is_punct(")")))
                {
                    out.push(Tok::Word("STRING".into()));
                    i += 1;
                    continue;
                }
                if let Some(open) = call_open
                    && !prev.as_ref().is_some_and(|p| p.is_punct("."))
                {
                    let close = closing(&toks, open)?;
                    let args: Vec<Vec<Tok>> = split_args(&toks[open + 1..close]).iter().map(|a| trim(a)).collect();
                    if let Some(replacement) = rewrite_call(&lower, &args, &toks, close, prev.as_ref())? {
                        out.extend(spark(replacement)?);
                        i = close + 1;
                        continue;
                    }
                }
                out.push(t.clone());
                i += 1;
            }
            Tok::Punct(p) if p == "[" => {
                let close = closing(&toks, i)?;
                let after_value = prev.as_ref().is_some_and(|p| {
                    matches!(p, Tok::Word(_) | Tok::Quoted(_)) && !is_keyword(p) || p.is_punct(")") || p.is_punct("]")
                });
                if after_value {
                    return Err(Unportable(
                        "list indexing x[i] (1-based in DuckDB, 0-based in Spark); use element_at(x, i)".into(),
                    ));
                }
                out.extend(words("array("));
                out.extend(spark(toks[i + 1..close].to_vec())?);
                out.push(Tok::Punct(")".into()));
                i = close + 1;
            }
            Tok::Punct(p) if p == "{" => {
                return Err(Unportable("a struct literal {…}; use named_struct in a Spark-only query".into()));
            }
            _ => {
                out.push(t.clone());
                i += 1;
            }
        }
    }
    Ok(out)
}

fn is_keyword(t: &Tok) -> bool {
    ["SELECT", "IN", "AS", "THEN", "ELSE", "WHEN", "AND", "OR", "NOT", "BY", "WHERE", "ON", "COALESCE"]
        .iter()
        .any(|k| t.is_word(k))
}

/// A function call's Spark spelling, or None to keep it.
fn rewrite_call(
    name: &str,
    args: &[Vec<Tok>],
    toks: &[Tok],
    close: usize,
    prev: Option<&Tok>,
) -> Result<Option<Vec<Tok>>, Unportable> {
    let call = |f: &str, args: &[Vec<Tok>]| -> Vec<Tok> {
        let mut v = words(&format!("{f}("));
        for (k, a) in args.iter().enumerate() {
            if k > 0 {
                v.extend(words(", "));
            }
            v.extend(a.iter().cloned());
        }
        v.push(Tok::Punct(")".into()));
        v
    };
    Ok(match name {
        "date_diff" | "datediff" if args.len() == 3 => {
            let Some(Tok::Str(unit)) = args[0].first().filter(|_| args[0].len() == 1) else { return Ok(None) };
            let mut rest = vec![vec![Tok::Word(unit.to_uppercase())]];
            rest.extend(args[1..].iter().cloned());
            Some(call("datediff", &rest))
        }
        "regexp_full_match" if args.len() == 2 => {
            let mut v = vec![Tok::Punct("(".into())];
            v.extend(args[0].iter().cloned());
            v.extend(words(" RLIKE "));
            match args[1].as_slice() {
                [Tok::Str(p)] => v.push(Tok::Str(format!("^(?:{p})$"))),
                other => {
                    v.extend(words("concat('^(?:', "));
                    v.extend(other.iter().cloned());
                    v.extend(words(", ')$')"));
                }
            }
            v.push(Tok::Punct(")".into()));
            Some(v)
        }
        "list" | "array_agg" if args.len() == 1 => {
            let arg = &args[0];
            let distinct = arg.first().is_some_and(|t| t.is_word("DISTINCT"));
            let (value, order) = match top_order_by(arg) {
                Some(k) => (trim(&arg[..k]), Some(trim(&arg[next_sig(arg, k + 1).unwrap_or(k) + 1..]))),
                None => (arg.clone(), None),
            };
            let value = if distinct { trim(&value[1..]) } else { value };
            // DuckDB's list() of no values is NULL, Spark's collect_list() an empty array.
            let or_null = |agg: Vec<Tok>| {
                let mut v = words("CASE WHEN ");
                v.extend(call("count", std::slice::from_ref(&value)));
                v.extend(words(" > 0 THEN "));
                v.extend(agg);
                v.extend(words(" END"));
                v
            };
            match (distinct, order) {
                (true, Some(o)) if render(&o) == render(&value) => {
                    Some(or_null(call("array_sort", &[call("collect_set", std::slice::from_ref(&value))])))
                }
                (true, None) => Some(or_null(call("collect_set", std::slice::from_ref(&value)))),
                (false, None) => Some(or_null(call("collect_list", std::slice::from_ref(&value)))),
                (_, Some(_)) => {
                    return Err(Unportable(
                        "ORDER BY inside list(); sort the result, or use list(DISTINCT x ORDER BY x)".into(),
                    ));
                }
            }
        }
        "string_agg" if args.len() == 2 => {
            let sep = &args[1];
            let Some(k) = top_order_by(sep) else { return Ok(None) };
            let order = trim(&sep[k..]);
            let mut v = call("listagg", &[args[0].clone(), trim(&sep[..k])]);
            v.extend(words(" WITHIN GROUP ("));
            v.extend(order);
            v.push(Tok::Punct(")".into()));
            Some(v)
        }
        "unnest" if args.len() == 1 => {
            let inner = &args[0];
            let range = inner.first().is_some_and(|t| t.is_word("range"))
                && next_sig(inner, 1).is_some_and(|o| inner[o].is_punct("("));
            let arg = if range {
                let open = next_sig(inner, 1).expect("checked");
                let close = closing(inner, open)?;
                let r: Vec<Vec<Tok>> = split_args(&inner[open + 1..close]).iter().map(|a| trim(a)).collect();
                if r.len() != 2 {
                    return Err(Unportable("range() with other than two arguments".into()));
                }
                let mut end = vec![Tok::Punct("(".into())];
                end.extend(r[1].iter().cloned());
                end.extend(words(") - 1"));
                call("sequence", &[r[0].clone(), end])
            } else {
                inner.clone()
            };
            // A table function (`FROM t, unnest(t.l) AS u(c)`) needs LATERAL to see `t`.
            let as_table = prev.is_some_and(|p| p.is_punct(",") || p.is_word("JOIN") || p.is_word("FROM"))
                && next_sig(toks, close + 1).is_some_and(|a| toks[a].is_word("AS"))
                && next_sig(toks, close + 1)
                    .and_then(|a| next_sig(toks, a + 1))
                    .and_then(|n| next_sig(toks, n + 1))
                    .is_some_and(|o| toks[o].is_punct("("));
            let mut v = if as_table { words("LATERAL ") } else { Vec::new() };
            v.extend(call("explode", &[arg]));
            Some(v)
        }
        "strftime" if args.len() == 2 => {
            let [Tok::Str(fmt)] = args[1].as_slice() else {
                return Err(Unportable("strftime with a computed pattern".into()));
            };
            Some(call("date_format", &[args[0].clone(), vec![Tok::Str(java_pattern(fmt)?)]]))
        }
        "chr" if matches!(args, [a] if render(a) == "1114111") => {
            return Err(Unportable(
                "chr(1114111) (a code-point range for a prefix); write a prefix test, starts_with(s, p)".into(),
            ));
        }
        "list_sort" if args.len() == 1 => Some(call("array_sort", args)),
        "list_has_any" if args.len() == 2 => Some(call("arrays_overlap", args)),
        "array_to_string" if args.len() == 2 => Some(call("array_join", args)),
        // `FROM t, range(a, t.b) AS r(i)`: a table function reading a column needs LATERAL, and
        // Spark's range() takes no column, so it becomes an exploded sequence.
        "range"
            if (1..=2).contains(&args.len())
                && prev.is_some_and(|p| p.is_punct(",") || p.is_word("JOIN"))
                && next_sig(toks, close + 1).is_some_and(|a| !toks[a].is_punct(",")) =>
        {
            let (from, to) = if args.len() == 2 { (args[0].clone(), &args[1]) } else { (words("0"), &args[0]) };
            let mut end = vec![Tok::Punct("(".into())];
            end.extend(to.iter().cloned());
            end.extend(words(") - 1"));
            let mut v = words("LATERAL ");
            v.extend(call("explode", &[call("sequence", &[from, end])]));
            Some(v)
        }
        "arg_min" => Some(call("min_by", args)),
        "arg_max" => Some(call("max_by", args)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spark_of(sql: &str) -> Result<String, Unportable> {
        let c = Catalog::load(None).unwrap();
        Translator::new(&c).unwrap().translate(sql, &[])
    }

    #[test]
    fn each_rewrite() {
        let cases = [
            ("WITH a AS MATERIALIZED (SELECT 1) SELECT * FROM a", "WITH a AS (SELECT 1) SELECT * FROM a"),
            ("SELECT date_diff('day', a, b)", "SELECT datediff(DAY, a, b)"),
            ("SELECT x::VARCHAR, CAST(y AS VARCHAR) AS text", "SELECT x::STRING, CAST(y AS STRING) AS text"),
            ("SELECT regexp_full_match(s, '[0-9]+')", "SELECT (s RLIKE '^(?:[0-9]+)$')"),
            ("SELECT list(DISTINCT c ORDER BY c)", "SELECT CASE WHEN count(c) > 0 THEN array_sort(collect_set(c)) END"),
            (
                "SELECT list(DISTINCT c), list(c)",
                "SELECT CASE WHEN count(c) > 0 THEN collect_set(c) END, CASE WHEN count(c) > 0 THEN collect_list(c) END",
            ),
            ("SELECT string_agg(a, ', ' ORDER BY a)", "SELECT listagg(a, ', ') WITHIN GROUP (ORDER BY a)"),
            ("SELECT unnest(range(0, n + 1)) AS k", "SELECT explode(sequence(0, (n + 1) - 1)) AS k"),
            ("SELECT u.c FROM t, unnest(t.l) AS u(c)", "SELECT u.c FROM t, LATERAL explode(t.l) AS u(c)"),
            ("SELECT strftime(d, '%Y-%m')", "SELECT date_format(d, 'yyyy-MM')"),
            ("SELECT arg_min(v, d)", "SELECT min_by(v, d)"),
            ("SELECT [] AS l, [1, 2] AS m", "SELECT array() AS l, array(1, 2) AS m"),
            ("SELECT 1 AS \"T\", 'it''s a \\ thing'", "SELECT 1 AS `T`, 'it\\'s a \\\\ thing'"),
            ("SELECT a -- a comment with 'quotes'\nFROM t", "SELECT a \nFROM t"),
            ("SELECT strftime(d, '%-d %b %Y')", "SELECT date_format(d, 'd MMM yyyy')"),
            ("SELECT d - INTERVAL (CAST(i AS INTEGER)) MONTH", "SELECT d - make_ym_interval(0, CAST(i AS INTEGER))"),
            (
                "SELECT * FROM s, range(0, s.n + 1) AS r(i)",
                "SELECT * FROM s, LATERAL explode(sequence(0, (s.n + 1) - 1)) AS r(i)",
            ),
            (
                "SELECT list_has_any(a, ['x']), array_to_string(l, ',')",
                "SELECT arrays_overlap(a, array('x')), array_join(l, ',')",
            ),
        ];
        for (duck, want) in cases {
            assert_eq!(spark_of(duck).unwrap().trim_end(), want, "{duck}");
        }
    }

    #[test]
    fn what_has_no_faithful_spelling_is_refused_with_the_reason() {
        for (sql, why) in [
            ("SELECT jaro_winkler_similarity(a, b)", "Jaro-Winkler"),
            ("SELECT a FROM t WHERE a < b || chr(1114111)", "prefix test"),
            ("SELECT list(a ORDER BY b)", "ORDER BY inside list()"),
            ("SELECT l[1] FROM t", "0-based"),
            ("SELECT {'a': 1}", "struct"),
            ("SELECT rowid FROM t", "rowid"),
            ("SELECT epoch(a - b)", "date_diff('second'"),
            ("SELECT * FROM a ASOF JOIN b ON a.t >= b.t", "ASOF JOIN"),
            ("SELECT t - to_minutes(m) FROM a", "to_minutes()"),
        ] {
            let e = spark_of(sql).unwrap_err();
            assert!(e.0.contains(why), "{sql}: {e}");
        }
    }

    #[test]
    fn parameters_become_literals_of_their_type() {
        let c = Catalog::load(None).unwrap();
        let t = Translator::new(&c).unwrap();
        let params = vec![
            ("d".to_string(), Param::Text("2024-10-01".into())),
            ("n".to_string(), Param::Int(90)),
            ("f".to_string(), Param::Float(1.2)),
            ("q".to_string(), Param::Text("O'Brien".into())),
        ];
        let out = t.translate("SELECT CAST($d AS DATE), $n, $f, $q, '$d'", &params).unwrap();
        assert_eq!(out.trim_end(), "SELECT CAST('2024-10-01' AS DATE), 90, CAST(1.2 AS DOUBLE), 'O\\'Brien', '$d'");
        let missing = t.translate("SELECT $other", &params).unwrap_err();
        assert!(missing.0.contains("--param other"), "{missing}");
    }

    #[test]
    fn macros_are_inlined_with_arguments_defaults_and_their_own_cte_names() {
        let c = Catalog::load(None).unwrap();
        let t = Translator::new(&c).unwrap();
        let params = vec![("as_of".to_string(), Param::Text("2024-10-01".into()))];
        let out = t
            .translate(
                "SELECT a.stage, b.stage FROM customer_stages($as_of, 'USD', 90, 180, 365, 30, 1000) a \
                 JOIN customer_stages($as_of, 'USD', 90, 180, 365, 30, 1000, at_risk_gap_factor := 2.0) b USING (customer_id)",
                &params,
            )
            .unwrap();
        assert!(!out.to_lowercase().contains("customer_stages("), "{out}");
        assert!(!out.to_lowercase().contains("customer_facts("), "{out}");
        // The default factor in the first use, the named one in the second.
        assert!(out.contains("(1.2) * greatest"), "{out}");
        assert!(out.contains("(2.0) * greatest"), "{out}");
        // Each use has its own CTE names.
        let staged: std::collections::HashSet<&str> =
            out.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|w| w.starts_with("staged__m")).collect();
        assert_eq!(staged.len(), 2, "{out}");
        // Qualified names and the macro's parameter names in `name :=` are not substituted.
        assert!(out.contains("f.orders"), "{out}");
    }
}
