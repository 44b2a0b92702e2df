//! Pathshala: a self-hostable interactive DevOps learning sandbox. A learner gets a real,
//! disposable Linux machine (a hardened Docker container) with a live terminal in the browser.

pub mod app;
pub mod check;
pub mod classroom;
pub mod cli;
pub mod config;
pub mod event;
pub mod http;
pub mod lesson;
pub mod sandbox;
pub mod session;
pub mod store;

pub use app::Application;
pub use config::Config;
