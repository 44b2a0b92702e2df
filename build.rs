//! Installs the browser dependencies (xterm.js) from npm into OUT_DIR, so the server binary
//! can embed them. Runs again only when web/package.json or its lock file changes.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=web/package.json");
    println!("cargo:rerun-if-changed=web/package-lock.json");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(Path::new("web").join(file), out.join(file))
            .unwrap_or_else(|e| panic!("cannot copy web/{file}: {e}"));
    }
    let lock = std::fs::read(out.join("package-lock.json")).expect("copied above");
    let stamp = out.join("installed-lock.json");
    if std::fs::read(&stamp).ok().as_deref() == Some(lock.as_slice()) {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
        .current_dir(&out)
        .status();
    match status {
        Ok(s) if s.success() => std::fs::write(&stamp, &lock).expect("OUT_DIR is writable"),
        Ok(s) => panic!(
            "`npm ci` for the browser dependencies failed ({s}); is the npm registry reachable?"
        ),
        Err(e) => panic!("cannot run npm ({e}); install Node.js and npm to build Pathshala"),
    }
}
