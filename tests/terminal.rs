//! `pantri deploy` and `pantri destroy` on a pseudo-terminal, as a person runs them: the real
//! binary against a moto server on 127.0.0.1, its stdin, stdout and stderr a terminal (expectrl),
//! so that the progress bar draws, the approval prompt asks and Ctrl-C is a signal from the
//! terminal's line discipline.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use expectrl::process::unix::WaitStatus;
use expectrl::{ControlCode, Eof, Expect, Regex, Session};
use pantri_tests::moto::Moto;
use pantri_tests::proxy::HoldingProxy;
use pantri_tests::write_assembly;
use serde_json::{json, Value};

type Terminal = expectrl::session::OsSession;

/// `pantri ARGS` on a new pseudo-terminal, talking to `endpoint`.
fn pantri(endpoint: &str, dir: &Path, args: &[&str]) -> Terminal {
    pantri_sized(endpoint, dir, args, None)
}

/// [`pantri`] on a terminal `cols` columns wide (set with `stty` before pantri starts).
fn pantri_sized(endpoint: &str, dir: &Path, args: &[&str], cols: Option<u16>) -> Terminal {
    let bin = pantri_tests::pantri_bin();
    let mut cmd = match cols {
        None => Command::new(bin),
        Some(cols) => {
            let mut sh = Command::new("sh");
            sh.arg("-c")
                .arg(format!("stty cols {cols} rows 50; exec \"$0\" \"$@\""))
                .arg(bin);
            sh
        }
    };
    cmd.args(args)
        .args(["--poll-interval-ms", "200", "--endpoint-url", endpoint])
        .current_dir(dir)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("NO_COLOR")
        .env("TERM", "xterm-256color");
    let mut session = Session::spawn(cmd).expect("pantri starts on a pseudo-terminal");
    session.set_expect_timeout(Some(Duration::from_secs(60)));
    session
}

/// Reads the terminal to its end and returns the exit code (and everything shown, for messages).
fn exit_code(mut term: Terminal) -> (i32, String) {
    let rest = term
        .expect(Eof)
        .map(|c| String::from_utf8_lossy(c.as_bytes()).into_owned())
        .unwrap_or_default();
    match term.get_process().wait() {
        Ok(WaitStatus::Exited(_, code)) => (code, rest),
        other => panic!("pantri did not exit normally: {other:?}\n{rest}"),
    }
}

/// Waits for `needle` and returns what was shown up to it.
fn expect(term: &mut Terminal, needle: &str) -> String {
    match term.expect(needle) {
        Ok(c) => String::from_utf8_lossy(c.before()).into_owned(),
        Err(e) => panic!("pantri never showed {needle:?}: {e}"),
    }
}

/// Runs `pantri ARGS`, waits for `prompt`, types `answer` and returns the exit code and what
/// was shown after the answer.
fn answer(endpoint: &str, dir: &Path, args: &[&str], prompt: &str, answer: &str) -> (i32, String) {
    let mut term = pantri(endpoint, dir, args);
    let shown = expect(&mut term, prompt);
    term.send_line(answer).expect("the answer is typed");
    let (code, rest) = exit_code(term);
    (code, format!("{shown}{prompt}{rest}"))
}

const DEPLOY: &[&str] = &["deploy", "dev", "--app", "."];
const DEPLOY_YES: &[&str] = &["deploy", "dev", "--app", ".", "--yes"];
const DESTROY: &[&str] = &["destroy", "dev", "--app", "."];
const ASK_DEPLOY: &str = "dev/App: deploy these changes? [y/N]";
/// The live progress bar: `dev/App [0s] 0/1 ...` (prefix, elapsed, resources done of all).
const BAR: &str = r"dev/App \[\d+s\] \d/1";
const ASK_DESTROY: &str = "Delete dev/App (in that order)? [y/N]";

fn queue() -> Value {
    json!({"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "dev-jobs"}}}})
}

/// A change that asks: a new IAM role (it may change access).
fn role() -> Value {
    json!({"Resources": {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "dev-jobs"}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]
        }}}
    }})
}

fn app_dir(template: &Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    write_assembly(
        dir.path(),
        pantri_tests::moto::ACCOUNT,
        &[("App", template, &[])],
    );
    dir
}

/// A deploy with changes draws the live progress bar and finishes: exit 0.
#[test]
fn a_deploy_with_changes_draws_progress_and_finishes() {
    let _one_at_a_time = serial();
    let moto = Moto::start();
    let dir = app_dir(&queue());
    let mut term = pantri(&moto.endpoint(), dir.path(), DEPLOY_YES);
    term.expect(Regex(BAR)).expect("the progress bar is drawn");
    expect(&mut term, "dev/App: deployed");
    let (code, rest) = exit_code(term);
    assert_eq!(code, 0, "{rest}");
}

/// The approval prompt answered yes: the change is deployed.
#[test]
fn the_approval_prompt_answered_yes_deploys() {
    let _one_at_a_time = serial();
    let moto = Moto::start();
    let dir = app_dir(&role());
    let (code, shown) = answer(&moto.endpoint(), dir.path(), DEPLOY, ASK_DEPLOY, "y");
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("needs approval"), "{shown}");
    assert!(shown.contains("dev/App: deployed"), "{shown}");
}

/// The approval prompt answered no: nothing changes, exit 3; the stack was never created.
#[test]
fn the_approval_prompt_answered_no_changes_nothing() {
    let _one_at_a_time = serial();
    let moto = Moto::start();
    let dir = app_dir(&role());
    let (code, shown) = answer(&moto.endpoint(), dir.path(), DEPLOY, ASK_DEPLOY, "n");
    assert_eq!(code, 3, "{shown}");
    assert!(
        shown.contains("not approved; nothing was changed"),
        "{shown}"
    );
    // Asked again, answered yes: it deploys from nothing (no stack was left behind).
    let (code, shown) = answer(&moto.endpoint(), dir.path(), DEPLOY, ASK_DEPLOY, "y");
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains("(dev-App, create)"),
        "created from nothing again: {shown}"
    );
}

/// The terminal tests run one at a time: each drives a real binary, a moto server and a
/// pseudo-terminal, and a Ctrl-C timed against a held request is only meaningful when the
/// machine is not also running the other terminal tests (seen flaky under parallel load).
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

const FOLLOW: &str = "Follow it with: aws cloudformation describe-stack-events --stack-name dev-App --region us-east-1";

/// Runs `pantri ARGS` through a proxy that stalls after `trigger`, shows `first`, types Ctrl-C
/// once the proxy stalls, and returns what was shown up to the command to follow the stack.
fn ctrl_c_while_held(
    moto: &Moto,
    trigger: &'static [&'static str],
    args: &[&str],
    first: Regex<&str>,
) -> String {
    let dir = app_dir(&queue());
    if trigger == ["DeleteStack"] {
        assert_eq!(
            exit_code(pantri(&moto.endpoint(), dir.path(), DEPLOY_YES)).0,
            0
        );
    }
    let slow = HoldingProxy::start(moto.port, trigger);
    let mut term = pantri(&slow.endpoint(), dir.path(), args);
    term.expect(first).expect("pantri starts working");
    while !slow.is_holding() {
        std::thread::sleep(Duration::from_millis(50));
    }
    term.send(ControlCode::EndOfText).expect("Ctrl-C is typed");
    let sent = std::time::Instant::now();
    // Within a few seconds, not after the 120 s a held request takes: the wait was dropped.
    // (The time is printed for the record, never asserted: a loaded machine is slower.)
    term.set_expect_timeout(Some(Duration::from_secs(5)));
    let shown = expect(&mut term, FOLLOW);
    eprintln!("the follow command came {:?} after Ctrl-C", sent.elapsed());
    let (code, rest) = exit_code(term);
    assert_eq!(code, 130, "{shown}{rest}");
    shown
}

/// Ctrl-C while CloudFormation is deploying: pantri stops watching at once, says how to follow
/// the stack, and exits 130; the deployment itself goes on.
#[test]
fn ctrl_c_mid_deploy_detaches_with_the_command_to_follow_the_stack() {
    let _one_at_a_time = serial();
    let moto = Moto::start();
    let shown = ctrl_c_while_held(&moto, &["ExecuteChangeSet"], DEPLOY_YES, Regex(BAR));
    assert!(
        shown.contains("dev/App: stopped watching; the deployment goes on"),
        "{shown}"
    );
}

/// Ctrl-C at the approval prompt: nothing was executed, exit 130.
#[test]
fn ctrl_c_at_the_prompt_stops_before_anything_changes() {
    let _one_at_a_time = serial();
    let moto = Moto::start();
    let dir = app_dir(&role());
    let mut term = pantri(&moto.endpoint(), dir.path(), DEPLOY);
    expect(&mut term, ASK_DEPLOY);
    term.send(ControlCode::EndOfText).expect("Ctrl-C is typed");
    term.set_expect_timeout(Some(Duration::from_secs(5)));
    expect(
        &mut term,
        "dev/App: stopped before executing the change set; the stack was not changed",
    );
    let (code, rest) = exit_code(term);
    assert_eq!(code, 130, "{rest}");
}

/// Destroy asks on the terminal; yes deletes, no keeps (exit 3).
#[test]
fn destroy_asks_on_the_terminal() {
    let _one_at_a_time = serial();
    let moto = Moto::start();
    let dir = app_dir(&queue());
    assert_eq!(
        exit_code(pantri(&moto.endpoint(), dir.path(), DEPLOY_YES)).0,
        0
    );
    let (code, shown) = answer(&moto.endpoint(), dir.path(), DESTROY, ASK_DESTROY, "n");
    assert_eq!(code, 3, "{shown}");
    assert!(shown.contains("nothing was deleted"), "{shown}");
    let (code, shown) = answer(&moto.endpoint(), dir.path(), DESTROY, ASK_DESTROY, "y");
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("dev/App: deleted"), "{shown}");
}

/// Ctrl-C while CloudFormation deletes: watching stops, exit 130, the command to follow it.
#[test]
fn ctrl_c_mid_destroy_detaches() {
    let _one_at_a_time = serial();
    let moto = Moto::start();
    let destroy = ["destroy", "dev", "--app", ".", "--yes"];
    let shown = ctrl_c_while_held(
        &moto,
        &["DeleteStack"],
        &destroy,
        Regex("dev/App: deleting dev-App"),
    );
    assert!(
        shown.contains("dev/App: stopped watching; the deletion goes on"),
        "{shown}"
    );
}

/// A template whose change-set table is wider than a narrow terminal.
fn long_names() -> Value {
    json!({"Resources": {
        "QueueForTheNightlyReportsOfEveryTenantInEveryRegion0123ABCD": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "dev-reports"}}
    }})
}

/// The text shown up to the progress bar of a `--yes` deploy on a terminal `cols` wide.
fn preview_on_terminal(cols: u16, extra: &[&str]) -> String {
    let moto = Moto::start();
    let dir = app_dir(&long_names());
    let mut args = DEPLOY_YES.to_vec();
    args.extend_from_slice(extra);
    let mut term = pantri_sized(&moto.endpoint(), dir.path(), &args, Some(cols));
    let shown = match term.expect(Regex(BAR)) {
        Ok(c) => String::from_utf8_lossy(c.before()).into_owned(),
        Err(e) => panic!("no progress bar: {e}"),
    };
    assert_eq!(exit_code(term).0, 0);
    shown
}

/// Whether `text` holds an SGR color sequence (`ESC [ ... m` with a color or bold parameter).
fn has_color(text: &str) -> bool {
    text.split('\u{1b}').skip(1).any(|rest| {
        rest.strip_prefix('[')
            .and_then(|r| r.split_once('m'))
            .is_some_and(|(params, _)| {
                !params.is_empty()
                    && params.chars().all(|c| c.is_ascii_digit() || c == ';')
                    && params != "0"
            })
    })
}

/// On a terminal the preview's template diff is colored, as `pantri diff`'s is, and the change
/// set's table is cut to the terminal's width.
#[test]
fn the_preview_is_colored_and_fits_the_terminal() {
    let _one_at_a_time = serial();
    let shown = preview_on_terminal(70, &[]);
    assert!(has_color(&shown), "no color in: {shown:?}");
    let table: Vec<&str> = shown
        .lines()
        .filter(|l| l.trim_start().starts_with("Add ") || l.trim_start().starts_with("Action"))
        .collect();
    assert_eq!(table.len(), 2, "{shown}");
    for line in table {
        let line = line.trim_end_matches('\r');
        assert!(
            line.chars().count() <= 70,
            "{} wide: {line:?}",
            line.chars().count()
        );
    }
    assert!(shown.contains('…'), "the long id is cut: {shown}");
}

/// `--no-color` (and `NO_COLOR`) keep the preview plain on a terminal too.
#[test]
fn no_color_keeps_the_preview_plain() {
    let _one_at_a_time = serial();
    let shown = preview_on_terminal(200, &["--no-color"]);
    assert!(!has_color(&shown), "colored: {shown:?}");
    assert!(
        shown.contains("QueueForTheNightlyReportsOfEveryTenantInEveryRegion0123ABCD"),
        "a wide terminal cuts nothing: {shown}"
    );
}
