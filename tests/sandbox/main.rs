//! Integration tests of the sandbox core: the real server on port 0, the real Docker engine,
//! a real SQLite file. Needs dockerd running and `pathshala images build` done.

mod api;
mod events;
mod faults;
mod isolation;
mod lesson_api;
mod lifecycle;
mod preview;
mod reload;
#[allow(dead_code)]
mod support;
mod terminal;
