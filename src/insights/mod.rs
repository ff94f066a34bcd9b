//! Insights: the facts of each use (the shop, a customer, who is at risk, segments, what to do,
//! a free question's result) as typed JSON, their deterministic narrative, and the routing of
//! plain-language questions. Takes query results; gives facts and text. The model, when one is
//! configured, only rephrases these facts (`llm`).

pub mod facts;
pub mod narrative;
pub mod route;
