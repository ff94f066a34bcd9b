//! A free question's SQL, from the model: one read-only statement over the known tables only.
//! scudo validates it before anything runs (then runs it on a read-only, sandboxed connection with
//! a row limit, so even a query that slipped through could neither write nor read files).

/// The SQL in a model's answer: the first ```sql block, else the whole text.
pub fn extract(answer: &str) -> String {
    let body = match answer.find("```") {
        Some(open) => {
            let rest = &answer[open + 3..];
            let rest = rest.strip_prefix("sql").or_else(|| rest.strip_prefix("SQL")).unwrap_or(rest);
            rest.split("```").next().unwrap_or(rest)
        }
        None => answer,
    };
    body.trim().trim_end_matches(';').trim().to_string()
}

/// Words that make a statement do something other than read.
const WRITES: &[&str] = &[
    "insert",
    "update",
    "delete",
    "merge",
    "create",
    "drop",
    "alter",
    "truncate",
    "copy",
    "attach",
    "detach",
    "pragma",
    "set",
    "reset",
    "install",
    "load",
    "call",
    "export",
    "import",
    "vacuum",
    "checkpoint",
    "grant",
    "revoke",
    "begin",
    "commit",
    "rollback",
    "use",
    "replace",
    "upsert",
];

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
    Str,
    Punct(char),
}

fn tokens(sql: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '-' && c.get(i + 1) == Some(&'-') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && c.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < c.len() && !(c[i] == '*' && c[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if ch == '\'' || ch == '"' {
            let mut j = i + 1;
            let mut text = String::new();
            loop {
                if j >= c.len() {
                    return Err("a quote is never closed".into());
                }
                if c[j] == ch {
                    if c.get(j + 1) == Some(&ch) {
                        text.push(ch);
                        j += 2;
                        continue;
                    }
                    break;
                }
                text.push(c[j]);
                j += 1;
            }
            out.push(if ch == '"' { Tok::Quoted(text) } else { Tok::Str });
            i = j + 1;
        } else if ch.is_alphanumeric() || ch == '_' || ch == '$' {
            let mut j = i;
            while j < c.len() && (c[j].is_alphanumeric() || c[j] == '_' || c[j] == '$') {
                j += 1;
            }
            out.push(Tok::Word(c[i..j].iter().collect::<String>().to_lowercase()));
            i = j;
        } else {
            out.push(Tok::Punct(ch));
            i += 1;
        }
    }
    Ok(out)
}

/// Checks that `sql` is one read-only query naming only `tables` (and `functions`, the
/// workspace's table macros). Returns a message saying what is wrong.
pub fn validate(sql: &str, tables: &[String], functions: &[String]) -> Result<(), String> {
    let toks = tokens(sql)?;
    if toks.is_empty() {
        return Err("the model wrote no SQL".into());
    }
    if let Some(p) = toks.iter().position(|t| *t == Tok::Punct(';'))
        && p + 1 < toks.len()
    {
        return Err("it holds more than one statement; only one SELECT is run".into());
    }
    match &toks[0] {
        Tok::Word(w) if w == "select" || w == "with" => {}
        other => {
            return Err(format!(
                "it starts with `{}`, not SELECT or WITH: only queries that read are run",
                show(other)
            ));
        }
    }
    if let Some(w) = toks.iter().find_map(|t| match t {
        Tok::Word(w) if WRITES.contains(&w.as_str()) => Some(w),
        _ => None,
    }) {
        return Err(format!(
            "it would write or change settings (`{}`): only queries that read are run",
            w.to_uppercase()
        ));
    }
    // Names the query defines itself: WITH name AS (…), name AS (…)
    let mut ctes: Vec<String> = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if let (Tok::Word(w) | Tok::Quoted(w), Some(Tok::Word(a)), Some(Tok::Punct('('))) =
            (t, toks.get(i + 1), toks.get(i + 2))
            && a == "as"
            && (i == 1 || matches!(toks.get(i - 1), Some(Tok::Punct(',')) | Some(Tok::Word(_))))
        {
            ctes.push(w.to_lowercase());
        }
    }
    let known = |name: &str| tables.iter().any(|t| t.eq_ignore_ascii_case(name)) || ctes.iter().any(|c| c == name);
    for start in 0..toks.len() {
        if !matches!(&toks[start], Tok::Word(w) if w == "from" || w == "join") {
            continue;
        }
        // FROM a, b: each table reference of the list (subqueries are met by this loop itself).
        let mut i = start + 1;
        loop {
            let name = match toks.get(i) {
                Some(Tok::Word(w)) => w.clone(),
                Some(Tok::Quoted(q)) => q.to_lowercase(),
                _ => break,
            };
            if toks.get(i + 1) == Some(&Tok::Punct('.')) {
                // schema.table: only the main schema's tables are known.
                let table = match toks.get(i + 2) {
                    Some(Tok::Word(t) | Tok::Quoted(t)) => t.to_lowercase(),
                    _ => String::new(),
                };
                if name != "main" || !known(&table) {
                    return Err(format!(
                        "it names the unknown table `{name}.{table}`; it may read only {}",
                        list(tables)
                    ));
                }
                i += 2;
            } else if toks.get(i + 1) == Some(&Tok::Punct('(')) {
                if !functions.iter().any(|f| f.eq_ignore_ascii_case(&name)) {
                    return Err(format!(
                        "it calls the unknown table function `{name}`; it may read only {}",
                        list(tables)
                    ));
                }
            } else if !known(&name) {
                return Err(format!("it names the unknown table `{name}`; it may read only {}", list(tables)));
            }
            // On to a comma at this level (another table), a clause or the end of a subquery.
            let mut depth = 0i32;
            i += 1;
            while let Some(t) = toks.get(i) {
                match t {
                    Tok::Punct('(') => depth += 1,
                    Tok::Punct(')') if depth == 0 => break,
                    Tok::Punct(')') => depth -= 1,
                    Tok::Punct(',') if depth == 0 => break,
                    Tok::Word(w) if depth == 0 && is_clause(w) => break,
                    _ => {}
                }
                i += 1;
            }
            if toks.get(i) != Some(&Tok::Punct(',')) {
                break;
            }
            i += 1;
        }
    }
    Ok(())
}

fn is_clause(w: &str) -> bool {
    matches!(
        w,
        "where"
            | "group"
            | "order"
            | "having"
            | "limit"
            | "join"
            | "left"
            | "right"
            | "inner"
            | "outer"
            | "full"
            | "cross"
            | "natural"
            | "on"
            | "using"
            | "union"
            | "except"
            | "intersect"
            | "qualify"
            | "window"
            | "select"
            | "offset"
            | "positional"
            | "asof"
            | "anti"
            | "semi"
            | "lateral"
    )
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Word(w) | Tok::Quoted(w) => w.clone(),
        Tok::Str => "'…'".into(),
        Tok::Punct(c) => c.to_string(),
    }
}

fn list(tables: &[String]) -> String {
    tables.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Vec<String> {
        ["customers", "orders", "order_items", "segments"].map(String::from).to_vec()
    }

    #[test]
    fn reads_from_known_tables_pass() {
        let ok = [
            "SELECT count(*) FROM orders",
            "select c.name, sum(o.value) AS v from customers c join orders o on o.customer_id = c.customer_id group by 1 order by v desc limit 5",
            "WITH big AS (SELECT * FROM orders WHERE value > 100), x AS (SELECT 1) SELECT count(*) FROM big, customers AS c",
            "SELECT * FROM (SELECT * FROM orders) AS t WHERE t.status = 'from nowhere; drop table x'",
            "SELECT * FROM customer_facts($as_of, $currency)",
            "SELECT name FROM main.customers",
        ];
        for q in ok {
            assert_eq!(validate(q, &t(), &["customer_facts".into()]), Ok(()), "{q}");
        }
    }

    #[test]
    fn writes_and_unknown_tables_are_refused_with_the_reason() {
        let bad = [
            ("DELETE FROM orders", "starts with `delete`"),
            ("SELECT 1; DROP TABLE orders", "more than one statement"),
            ("WITH x AS (SELECT 1) INSERT INTO orders SELECT * FROM x", "`INSERT`"),
            ("SELECT * FROM users", "unknown table `users`"),
            ("SELECT * FROM orders JOIN payments USING (id)", "unknown table `payments`"),
            ("SELECT * FROM read_csv('/etc/passwd')", "unknown table function `read_csv`"),
            ("SELECT * FROM other.orders", "unknown table `other.orders`"),
            ("SELECT * FROM orders, secrets", "unknown table `secrets`"),
            ("COPY orders TO 'x.csv'", "starts with `copy`"),
            ("SELECT 'unclosed", "never closed"),
        ];
        for (q, why) in bad {
            let err = validate(q, &t(), &["customer_facts".into()]).unwrap_err();
            assert!(err.contains(why), "{q}: {err}");
        }
    }

    #[test]
    fn finds_the_sql_in_an_answer() {
        assert_eq!(extract("Here:\n```sql\nSELECT 1;\n```\nDone"), "SELECT 1");
        assert_eq!(extract("SELECT 2"), "SELECT 2");
    }
}
