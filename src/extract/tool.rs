//! External converters (pdftotext, catdoc, catppt) run as child processes, bounded in time
//! and memory and killed on overrun, so one hostile file costs only itself. Bytes that have no
//! file on disk (archive members) are written to a temporary file for tools that need a path.
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Per-call bounds for one child process.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    /// Address-space limit (RLIMIT_AS) set in the child before it starts.
    pub memory_bytes: u64,
}

/// A child's standard output is not read past this size: no single document is that large.
const MAX_OUTPUT_BYTES: u64 = 1 << 30;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("`{0}` is not installed (not found on PATH)")]
    NotInstalled(String),
    #[error("`{program}` was killed after the {seconds} s time limit (extract.tool_timeout_secs)")]
    TimedOut { program: String, seconds: u64 },
    #[error("`{program}` failed ({status}): {stderr}")]
    Failed {
        program: String,
        status: String,
        stderr: String,
    },
    #[error("`{program}` wrote more than {MAX_OUTPUT_BYTES} bytes")]
    TooMuchOutput { program: String },
    #[error("cannot run `{program}`: {error}")]
    Io {
        program: String,
        error: std::io::Error,
    },
}

/// Output of a finished child: what it wrote and the start of its complaints.
pub struct ToolOutput {
    pub stdout: Vec<u8>,
    pub stderr: String,
}

/// Runs `program args…` with no stdin and returns its stdout; a non-zero exit is an error.
pub fn run(program: &str, args: &[&OsStr], limits: Limits) -> Result<ToolOutput, ToolError> {
    let io_error = |error| ToolError::Io {
        program: program.to_string(),
        error,
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    limit_memory(&mut command, limits.memory_bytes);
    let mut child = command.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ToolError::NotInstalled(program.to_string()),
        _ => io_error(e),
    })?;
    // Both pipes are drained on their own threads so a chatty child never blocks on a full pipe.
    let stdout = child
        .stdout
        .take()
        .map(|out| read_capped(out, MAX_OUTPUT_BYTES));
    let stderr = child.stderr.take().map(|err| read_capped(err, 64 << 10));
    let status = wait_or_kill(&mut child, limits.timeout).map_err(io_error)?;
    let stdout = stdout.map(join_reader).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&stderr.map(join_reader).unwrap_or_default())
        .trim()
        .to_string();
    let Some(status) = status else {
        return Err(ToolError::TimedOut {
            program: program.to_string(),
            seconds: limits.timeout.as_secs(),
        });
    };
    if stdout.len() as u64 > MAX_OUTPUT_BYTES {
        return Err(ToolError::TooMuchOutput {
            program: program.to_string(),
        });
    }
    if !status.success() {
        let mut lines: Vec<&str> = stderr.lines().take(5).collect();
        lines.dedup();
        let stderr = lines.join(" | ");
        return Err(ToolError::Failed {
            program: program.to_string(),
            status: status.to_string(),
            stderr,
        });
    }
    Ok(ToolOutput { stdout, stderr })
}

/// An address-space limit (setrlimit in the child, before exec).
pub fn limit_memory(command: &mut Command, bytes: u64) {
    use std::os::unix::process::CommandExt;
    let limit = libc::rlimit {
        rlim_cur: bytes as libc::rlim_t,
        rlim_max: bytes as libc::rlim_t,
    };
    // SAFETY: setrlimit is async-signal-safe and touches only the child's own limits.
    unsafe {
        command.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

type Reader = std::thread::JoinHandle<Vec<u8>>;

fn read_capped(pipe: impl Read + Send + 'static, cap: u64) -> Reader {
    std::thread::spawn(move || {
        let mut buffer = Vec::new();
        // One byte past the cap tells the caller the output was cut.
        let _ = pipe.take(cap + 1).read_to_end(&mut buffer);
        buffer
    })
}

fn join_reader(reader: Reader) -> Vec<u8> {
    reader.join().unwrap_or_default()
}

/// Waits up to `timeout`; on overrun kills the child and returns `None`.
pub fn wait_or_kill(
    child: &mut Child,
    timeout: Duration,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            child.wait()?;
            return Ok(None);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(25));
    }
}

/// True when an executable named `program` is in a folder on PATH.
pub fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        std::fs::metadata(dir.join(program))
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    })
}

/// A path a tool can open: the input's own file when it has one, else a temporary copy of the
/// bytes (deleted on drop).
pub enum InputFile {
    Existing(PathBuf),
    Temporary(tempfile::NamedTempFile),
}

impl InputFile {
    pub fn new(bytes: &[u8], existing: Option<&Path>, suffix: &str) -> std::io::Result<Self> {
        if let Some(path) = existing {
            return Ok(InputFile::Existing(path.to_path_buf()));
        }
        let mut file = tempfile::Builder::new()
            .prefix("medcorpus-")
            .suffix(suffix)
            .tempfile()?;
        file.write_all(bytes)?;
        file.flush()?;
        Ok(InputFile::Temporary(file))
    }

    pub fn path(&self) -> &Path {
        match self {
            InputFile::Existing(path) => path,
            InputFile::Temporary(file) => file.path(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(seconds: u64) -> Limits {
        Limits {
            timeout: Duration::from_secs(seconds),
            memory_bytes: 1 << 30,
        }
    }

    #[test]
    fn a_hanging_child_is_killed() {
        let result = run("sleep", &[OsStr::new("30")], limits(1));
        assert!(matches!(result, Err(ToolError::TimedOut { .. })));
    }

    #[test]
    fn a_missing_tool_is_named() {
        let result = run("medcorpus-no-such-tool", &[], limits(5));
        assert!(matches!(result, Err(ToolError::NotInstalled(_))));
    }

    #[test]
    fn memory_limit_applies_to_the_child() {
        // 64 MiB of address space is too little for a shell to allocate 200 MB.
        let tight = Limits {
            timeout: Duration::from_secs(10),
            memory_bytes: 64 << 20,
        };
        let script = "head -c 200000000 /dev/zero | tr '\\0' a | { x=$(cat); echo ${#x}; }";
        let result = run("sh", &[OsStr::new("-c"), OsStr::new(script)], tight);
        assert!(!matches!(result, Ok(ref out) if out.stdout.starts_with(b"200000000")));
    }
}
