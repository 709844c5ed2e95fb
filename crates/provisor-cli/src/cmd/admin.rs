//! `provisor admin`: what an operator does on the server's machine, without the API:
//! create an admin (the alternative to the setup link), check the audit log, back up
//! and restore.

use std::io::{BufRead, IsTerminal};

use provisor_store::{Actor, NewUser};

use super::serve::{data_dir, open_state, runtime};
use crate::cli::{AdminAction, AdminArgs, AdminCreateArgs, BackupArgs, RestoreArgs, StoreArgs};
use crate::{Failure, Outcome};

pub fn run(args: AdminArgs) -> Result<Outcome, Failure> {
    match args.action {
        AdminAction::Create(args) => create(args),
        AdminAction::AuditVerify(args) => audit_verify(args),
        AdminAction::Backup(args) => backup(args),
        AdminAction::Restore(args) => restore(args),
    }
}

fn config(store: &StoreArgs) -> Result<provisor_server::Config, Failure> {
    super::serve::store_config(store)
}

fn read_password() -> Result<String, Failure> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ").map_err(Failure::from)?;
        let second = rpassword::prompt_password("again: ").map_err(Failure::from)?;
        if first != second {
            return Err(Failure::Invalid("the two passwords differ".into()));
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn create(args: AdminCreateArgs) -> Result<Outcome, Failure> {
    let config = config(&args.store)?;
    let password = read_password()?;
    runtime()?.block_on(async move {
        let state = open_state(config).await?;
        let user = state
            .store()
            .create_user(
                &Actor::Server,
                &NewUser {
                    login: args.login,
                    display_name: args.name,
                    password,
                    server_admin: true,
                },
            )
            .await
            .map_err(|error| Failure::Invalid(error.to_string()))?;
        state
            .store()
            .set_setting(provisor_server::SETUP_SETTING, "used")
            .await
            .map_err(|error| Failure::Internal(error.into()))?;
        eprintln!(
            "created server admin {} ({}); at the first login they enrol an authenticator app",
            user.login, user.id
        );
        Ok(Outcome::Success)
    })
}

fn audit_verify(args: StoreArgs) -> Result<Outcome, Failure> {
    let config = config(&args)?;
    runtime()?.block_on(async move {
        let state = open_state(config).await?;
        let verification = state
            .store()
            .verify_audit(state.key())
            .await
            .map_err(|error| Failure::Internal(error.into()))?;
        println!(
            "{} entries, {} checkpoints, {} issued reports checked against key {}",
            verification.entries,
            verification.checkpoints,
            verification.reports,
            state.key().public_hex()
        );
        for problem in &verification.problems {
            println!("problem: {problem}");
        }
        Ok(if verification.holds() {
            println!("the audit log holds");
            Outcome::Success
        } else {
            println!("the audit log does NOT hold");
            Outcome::Negative
        })
    })
}

fn backup(args: BackupArgs) -> Result<Outcome, Failure> {
    let config = config(&args.store)?;
    runtime()?.block_on(async move {
        let state = open_state(config.clone()).await?;
        let manifest = state
            .store()
            .backup(&config.data, config.database.as_deref(), &args.output)
            .await
            .map_err(|error| Failure::Invalid(error.to_string()))?;
        match &manifest.blobs_kept_in {
            None => eprintln!(
                "wrote {} ({} database, {} blobs, the server key)",
                args.output.display(),
                manifest.engine,
                manifest.blobs
            ),
            Some(bucket) => eprintln!(
                "wrote {} ({} database, the server key); the blobs stay in {bucket}: keep the bucket versioned to keep their history",
                args.output.display(),
                manifest.engine,
            ),
        }
        Ok(Outcome::Success)
    })
}

fn restore(args: RestoreArgs) -> Result<Outcome, Failure> {
    let data = data_dir(&args.store)?;
    runtime()?.block_on(async move {
        let manifest = provisor_store::restore(&args.from, &data, args.store.database.as_deref())
            .await
            .map_err(|error| Failure::Invalid(error.to_string()))?;
        eprintln!(
            "restored the {} backup of {} into {}",
            manifest.engine,
            args.from.display(),
            data.display()
        );
        Ok(Outcome::Success)
    })
}
