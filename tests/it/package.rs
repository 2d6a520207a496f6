//! The Debian package: built by `.ci/package-deb` from the debug binary this
//! test run uses, inspected with `dpkg-deb`, unpacked into a scratch root, and
//! its sysusers and tmpfiles files applied there (never to this machine).
//!
//! Ignored by a plain `cargo test` (it needs cargo-deb, which the script
//! installs: minutes on a fresh machine); `.ci/run` runs it with
//! `cargo test --test it -- --ignored package::`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::cmd::strip_env;

fn root_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode()
        & 0o7777
}

#[test]
#[ignore = "needs cargo-deb (installed by .ci/package-deb); .ci/run runs it"]
fn the_debian_package_installs_the_service_disabled_with_its_user_directories_and_configuration() {
    let repo = root_dir();
    // The binary under test is the one the package takes (--no-build): the
    // debug build cargo made for this test run.
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_ivcd"));
    assert_eq!(binary, repo.join("target/debug/ivcd"), "the script packages target/debug/ivcd");
    let printed =
        run(Command::new("bash").arg(repo.join(".ci/package-deb")).args(["--profile", "dev", "--no-build"]));
    let deb = PathBuf::from(printed.lines().last().expect("the script prints the package path").trim());
    assert!(deb.is_file(), "{}", deb.display());

    // ---- control: name, version, architecture, dependencies, conffiles.
    let field =
        |name: &str| run(Command::new("dpkg-deb").arg("--field").arg(&deb).arg(name)).trim().to_owned();
    assert_eq!(field("Package"), "ivcd");
    assert_eq!(field("Version"), concat!(env!("CARGO_PKG_VERSION"), "-1"));
    assert!(field("Depends").contains("libc6"), "{}", field("Depends"));
    let scratch = tempfile::tempdir().unwrap();
    let control = scratch.path().join("DEBIAN");
    run(Command::new("dpkg-deb").arg("--control").arg(&deb).arg(&control));
    let conffiles = std::fs::read_to_string(control.join("conffiles")).unwrap();
    assert!(conffiles.lines().any(|l| l == "/etc/ivcd/ivcd.toml"), "{conffiles}");
    let postinst = std::fs::read_to_string(control.join("postinst")).unwrap();
    assert!(postinst.contains("systemd-sysusers"), "postinst creates the user:\n{postinst}");
    assert!(postinst.contains("systemd-tmpfiles --create"), "postinst creates the directories:\n{postinst}");
    // Enables and starts nothing: enabling only re-applies a unit the admin
    // had enabled, and an upgrade restarts the service only if it runs.
    assert!(postinst.contains("was-enabled"), "{postinst}");
    assert!(postinst.contains("try-restart"), "{postinst}");
    for forbidden in ["_dh_action=start", "deb-systemd-invoke start", "systemctl enable", "systemctl start"] {
        assert!(!postinst.contains(forbidden), "postinst has {forbidden:?}:\n{postinst}");
    }

    // ---- contents, unpacked into the scratch root.
    let root = scratch.path().join("root");
    run(Command::new("dpkg-deb").arg("--extract").arg(&deb).arg(&root));
    let unit = ["usr/lib/systemd/system/ivcd.service", "lib/systemd/system/ivcd.service"]
        .into_iter()
        .map(|p| root.join(p))
        .find(|p| p.is_file())
        .expect("the unit under /usr/lib/systemd/system or /lib/systemd/system");
    let same = |installed: &Path, source: &str| {
        assert_eq!(
            std::fs::read_to_string(installed).unwrap_or_else(|e| panic!("{}: {e}", installed.display())),
            std::fs::read_to_string(repo.join(source)).unwrap(),
            "{} is {source}",
            installed.display()
        );
    };
    same(&unit, "systemd/ivcd.service");
    same(&root.join("usr/lib/sysusers.d/ivcd.conf"), "systemd/ivcd.sysusers");
    same(&root.join("usr/lib/tmpfiles.d/ivcd.conf"), "systemd/ivcd.tmpfile");
    same(&root.join("etc/ivcd/ivcd.toml"), "config/ivcd.systemd.toml");
    assert_eq!(mode(&root.join("etc/ivcd/ivcd.toml")), 0o640);
    same(&root.join("usr/share/doc/ivcd/examples/ivcd.example.toml"), "config/ivcd.example.toml");
    for doc in ["operations.md", "configuration.md", "schema.md", "ARCHITECTURE.md", "README.md"] {
        assert!(root.join("usr/share/doc/ivcd").join(doc).is_file(), "{doc}");
    }
    // The unit's Documentation= points into the package.
    assert!(std::fs::read_to_string(&unit).unwrap().contains("file:///usr/share/doc/ivcd/operations.md"));
    let man = std::fs::read_dir(root.join("usr/share/man/man1"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect::<Vec<_>>();
    for page in ["ivcd.1", "ivcd-db.1", "ivcd-status.1"] {
        assert!(man.iter().any(|m| m == page || *m == format!("{page}.gz")), "{page} in {man:?}");
    }
    let bash = std::fs::read_to_string(root.join("usr/share/bash-completion/completions/ivcd")).unwrap();
    assert!(
        bash.contains("check-config") && bash.contains("backup"),
        "the bash completion knows the commands"
    );
    assert!(root.join("usr/share/zsh/vendor-completions/_ivcd").is_file());
    assert!(root.join("usr/share/fish/vendor_completions.d/ivcd.fish").is_file());

    // The packaged binary is this build, and checks the packaged configuration.
    let bin = root.join("usr/bin/ivcd");
    assert_eq!(mode(&bin), 0o755);
    let version = run(strip_env(&mut Command::new(&bin)).arg("--version"));
    assert_eq!(version.trim(), format!("ivcd {}", ivcd::VERSION.as_str()));
    let checked =
        run(strip_env(&mut Command::new(&bin)).arg("check-config").arg(root.join("etc/ivcd/ivcd.toml")));
    assert!(checked.contains("database = \"/var/lib/ivcd/ivcd.db\""), "{checked}");

    // ---- what postinst does, applied to the scratch root: the user and the directories.
    let sysusers = root.join("usr/lib/sysusers.d/ivcd.conf");
    run(Command::new("systemd-sysusers").arg(format!("--root={}", root.display())).arg(&sysusers));
    let passwd = std::fs::read_to_string(root.join("etc/passwd")).unwrap();
    let user =
        passwd.lines().find(|l| l.starts_with("ivcd:")).unwrap_or_else(|| panic!("no ivcd user:\n{passwd}"));
    let fields: Vec<&str> = user.split(':').collect();
    assert_eq!(fields[5], "/var/lib/ivcd", "home");
    assert!(fields[6].ends_with("nologin"), "no login shell: {user}");
    let uid: u32 = fields[2].parse().unwrap();
    assert!(uid < 1000, "a system user: {user}");
    let tmpfiles = root.join("usr/lib/tmpfiles.d/ivcd.conf");
    let as_root = run(Command::new("id").arg("-u")).trim() == "0";
    let applied = Command::new("systemd-tmpfiles")
        .arg(format!("--root={}", root.display()))
        .arg("--create")
        .arg(&tmpfiles)
        .status()
        .unwrap();
    for dir in ["var/lib/ivcd", "var/log/ivcd", "etc/ivcd"] {
        assert_eq!(mode(&root.join(dir)), 0o750, "/{dir}");
    }
    if !as_root {
        // Only root can give the directories to ivcd: the modes are checked, not the owners.
        assert_eq!(applied.code(), Some(73), "systemd-tmpfiles: only the chown may fail");
        return;
    }
    assert!(applied.success(), "systemd-tmpfiles --create");
    use std::os::unix::fs::MetadataExt;
    let state = std::fs::metadata(root.join("var/lib/ivcd")).unwrap();
    assert_eq!(state.uid(), uid, "/var/lib/ivcd belongs to ivcd");
    let config = std::fs::metadata(root.join("etc/ivcd/ivcd.toml")).unwrap();
    assert_eq!(
        (config.uid(), config.gid(), config.mode() & 0o777),
        (0, state.gid(), 0o640),
        "root:ivcd 0640"
    );
}
