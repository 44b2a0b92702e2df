//! Integration tests of the classroom: instructors made with the `pathshala` command, their
//! logins against the real server and a real SQLite file. Needs dockerd running (the server
//! always connects to its engine).

#[allow(dead_code)]
#[path = "../sandbox/support.rs"]
mod support;

mod actions;
mod classes;
mod instructors;
mod live;
mod recordings;
mod watch;
