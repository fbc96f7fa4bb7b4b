//! `ewg user` and `ewg token`: accounts managed by the operator on the machine, through the service
//! ([`crate::studio::Studio::add_user`] and its neighbours), so the password rule is the API's.

use super::config::{Common, ServeArgs, TokenCommand, UserCommand};
use super::{Failure, open};
use app::api::Role;
use std::io::{IsTerminal, Read};

pub(super) async fn user(common: &Common, cmd: UserCommand) -> Result<(), Failure> {
    let studio = open(common, &ServeArgs::default()).await?;
    match cmd {
        UserCommand::Add { name, admin, role } => {
            let role = if admin {
                Role::Admin
            } else {
                Role::parse(&role).unwrap_or(Role::Viewer)
            };
            let (password, generated) = read_or_generate_password()?;
            studio.add_user(&name, &password, role).await?;
            if generated {
                println!("{password}");
                eprintln!(
                    "user {name} ({}) created; the password above is shown only once",
                    role.as_str()
                );
            } else {
                eprintln!("user {name} ({}) created", role.as_str());
            }
        }
        UserCommand::Passwd { name } => {
            let (password, generated) = read_or_generate_password()?;
            studio.reset_password(&name, &password).await?;
            if generated {
                println!("{password}");
            }
            eprintln!("password of {name} changed; all of their sessions ended");
        }
    }
    Ok(())
}

pub(super) async fn token(common: &Common, cmd: TokenCommand) -> Result<(), Failure> {
    let studio = open(common, &ServeArgs::default()).await?;
    match cmd {
        TokenCommand::Create { role, name } => {
            let role = Role::parse(&role).unwrap_or(Role::Viewer);
            let (id, secret) = studio.create_token(&name, role).await?;
            println!("{secret}");
            eprintln!(
                "token {id} ({name}, {}) created; revoke with `ewg token revoke {id}`",
                role.as_str()
            );
        }
        TokenCommand::Revoke { id } => {
            studio.revoke_token(id).await?;
            eprintln!("token {id} revoked");
        }
        TokenCommand::List => {
            for t in studio.tokens().await? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "live"
                };
                println!("{}\t{}\t{}\t{state}", t.id, t.name, t.role);
            }
        }
    }
    Ok(())
}

/// A password from stdin (one line) when something is piped in, else a generated one. The rule on
/// what a password must be is the service's.
fn read_or_generate_password() -> Result<(String, bool), Failure> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut s = String::new();
        stdin
            .lock()
            .read_to_string(&mut s)
            .map_err(|e| Failure::Runtime(format!("reading the password from stdin: {e}")))?;
        let pw = s.lines().next().unwrap_or("").to_string();
        if !pw.is_empty() {
            return Ok((pw, false));
        }
    }
    let secret = crate::auth::new_secret().map_err(|e| Failure::Runtime(e.to_string()))?;
    Ok((secret[..20].to_string(), true))
}
