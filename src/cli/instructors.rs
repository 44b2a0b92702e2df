//! `pathshala instructors add|list|remove|passwd`: the accounts that make and run classes.
//! Passwords come from a prompt (typed twice, not echoed) or, for scripts, from standard
//! input (`--password-stdin`, one line).

use std::io::BufRead;

use crate::classroom::Classroom;
use crate::config::Config;
use crate::store::Store;

/// Where a new password comes from.
#[derive(Debug, Clone, Copy)]
pub enum PasswordFrom {
    Prompt,
    Stdin,
}

fn classroom(config: &Config) -> anyhow::Result<Classroom> {
    let store = std::sync::Arc::new(Store::open(&config.data_dir)?);
    // The command line runs no sessions: nobody needs to hear of joined browsers.
    let learners = crate::session::Learners::default();
    Ok(Classroom::open(
        store,
        config.classroom.clone(),
        &config.data_dir,
        learners,
    )?)
}

fn read_password(from: PasswordFrom, name: &str) -> anyhow::Result<String> {
    match from {
        PasswordFrom::Stdin => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            Ok(line.trim_end_matches(['\r', '\n']).to_string())
        }
        PasswordFrom::Prompt => {
            let first = rpassword::prompt_password(format!("Password for {name}: "))?;
            let again = rpassword::prompt_password("Type it again: ")?;
            anyhow::ensure!(
                first == again,
                "the two passwords differ; nothing was changed"
            );
            Ok(first)
        }
    }
}

pub async fn add(config: &Config, name: &str, from: PasswordFrom) -> anyhow::Result<()> {
    let classroom = classroom(config)?;
    let password = read_password(from, name)?;
    classroom.add_instructor(name, &password).await?;
    println!("instructor {name} added");
    Ok(())
}

pub async fn list(config: &Config) -> anyhow::Result<()> {
    let instructors = classroom(config)?.instructors().await?;
    if instructors.is_empty() {
        println!("no instructors yet; add one with: pathshala instructors add NAME");
    }
    for (name, _) in instructors {
        println!("{name}");
    }
    Ok(())
}

pub async fn remove(config: &Config, name: &str) -> anyhow::Result<()> {
    classroom(config)?.remove_instructor(name).await?;
    println!("instructor {name} removed; their logins have ended");
    Ok(())
}

pub async fn passwd(config: &Config, name: &str, from: PasswordFrom) -> anyhow::Result<()> {
    let classroom = classroom(config)?;
    let password = read_password(from, name)?;
    classroom.set_password(name, &password).await?;
    println!("password of {name} changed; their other logins have ended");
    Ok(())
}
