use std::fmt;

/// The result type used across Mirage.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, independent of where. Maps to errno (FUSE), to GNU
/// messages and exit codes (commands) and to HTTP status codes (server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `ENOENT`: "No such file or directory".
    NotFound,
    /// `ENOTDIR`: "Not a directory".
    NotADirectory,
    /// `EISDIR`: "Is a directory".
    IsADirectory,
    /// `EACCES`: "Permission denied".
    PermissionDenied,
    /// `EROFS`: "Read-only file system".
    ReadOnly,
    /// `EEXIST`: "File exists".
    AlreadyExists,
    /// `ENOTEMPTY`: "Directory not empty".
    DirectoryNotEmpty,
    /// `ENOTSUP`: the resource or the shell does not support the operation.
    Unsupported,
    /// `EINVAL`: "Invalid argument".
    InvalidInput,
    /// `EXDEV`: "Invalid cross-device link".
    CrossDevice,
    /// `EPIPE`: the reader of a pipe went away (the command should stop quietly).
    BrokenPipe,
    /// `ELOOP`: "Too many levels of symbolic links" (a symlink loop, or a
    /// chain longer than 40 links, as Linux counts).
    TooManyLinks,
    /// A remote backend failed; `retryable` says whether trying again may help.
    Remote {
        /// Whether a retry may succeed (timeouts, 5xx, throttling).
        retryable: bool,
    },
    /// A conditional write (`write: conditional`) lost: the file changed
    /// since its version was last read (S3 `412 Precondition Failed`, a
    /// Redis `WATCH` that fired). `ESTALE`; the message says what to do.
    Conflict,
    /// Any other I/O failure ("Input/output error").
    Io,
}

impl ErrorKind {
    /// The strerror(3) text GNU tools print for this kind, e.g.
    /// `"No such file or directory"`.
    pub fn gnu_message(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "No such file or directory",
            ErrorKind::NotADirectory => "Not a directory",
            ErrorKind::IsADirectory => "Is a directory",
            ErrorKind::PermissionDenied => "Permission denied",
            ErrorKind::ReadOnly => "Read-only file system",
            ErrorKind::AlreadyExists => "File exists",
            ErrorKind::DirectoryNotEmpty => "Directory not empty",
            ErrorKind::Unsupported => "Operation not supported",
            ErrorKind::InvalidInput => "Invalid argument",
            ErrorKind::CrossDevice => "Invalid cross-device link",
            ErrorKind::BrokenPipe => "Broken pipe",
            ErrorKind::TooManyLinks => "Too many levels of symbolic links",
            ErrorKind::Conflict => "changed since it was read; read it again before writing",
            ErrorKind::Remote { .. } | ErrorKind::Io => "Input/output error",
        }
    }

    /// The errno value (Linux numbering) for FUSE replies.
    pub fn errno(self) -> i32 {
        match self {
            ErrorKind::NotFound => 2,
            ErrorKind::NotADirectory => 20,
            ErrorKind::IsADirectory => 21,
            ErrorKind::PermissionDenied => 13,
            ErrorKind::ReadOnly => 30,
            ErrorKind::AlreadyExists => 17,
            ErrorKind::DirectoryNotEmpty => 39,
            ErrorKind::Unsupported => 95,
            ErrorKind::InvalidInput => 22,
            ErrorKind::CrossDevice => 18,
            ErrorKind::BrokenPipe => 32,
            ErrorKind::TooManyLinks => 40,
            ErrorKind::Conflict => 116,
            ErrorKind::Remote { .. } | ErrorKind::Io => 5,
        }
    }

    /// The HTTP status code the server answers with for this kind.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::NotFound => 404,
            ErrorKind::PermissionDenied | ErrorKind::ReadOnly => 403,
            ErrorKind::AlreadyExists | ErrorKind::DirectoryNotEmpty => 409,
            ErrorKind::Conflict => 412,
            ErrorKind::Unsupported => 501,
            ErrorKind::InvalidInput
            | ErrorKind::NotADirectory
            | ErrorKind::IsADirectory
            | ErrorKind::CrossDevice
            | ErrorKind::TooManyLinks => 400,
            ErrorKind::Remote { retryable: true } => 503,
            ErrorKind::BrokenPipe | ErrorKind::Remote { .. } | ErrorKind::Io => 502,
        }
    }
}

/// One error type for the whole project: a [`ErrorKind`] plus context.
///
/// `Display` gives the GNU form `PATH: MESSAGE` when a path is known
/// (`/data/x: No such file or directory`), so a command prints
/// `cat: {err}` exactly like coreutils.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The kind, which decides errno, exit code and HTTP status.
    pub kind: ErrorKind,
    /// The virtual path involved, if any.
    pub path: Option<String>,
    /// A message replacing the kind's GNU text, if any.
    pub detail: Option<String>,
}

impl Error {
    /// An error of `kind` with no path.
    pub fn new(kind: ErrorKind) -> Self {
        Error {
            kind,
            path: None,
            detail: None,
        }
    }
    /// An error of `kind` about `path`.
    pub fn at(kind: ErrorKind, path: impl Into<String>) -> Self {
        Error {
            kind,
            path: Some(path.into()),
            detail: None,
        }
    }
    /// An error of `kind` with a custom message instead of the GNU text.
    pub fn msg(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Error {
            kind,
            path: None,
            detail: Some(detail.into()),
        }
    }
    /// `ENOENT` for `path`.
    pub fn not_found(path: impl Into<String>) -> Self {
        Self::at(ErrorKind::NotFound, path)
    }
    /// "unsupported: WHAT", for constructs and operations we refuse.
    pub fn unsupported(what: impl Into<String>) -> Self {
        Self::msg(
            ErrorKind::Unsupported,
            format!("unsupported: {}", what.into()),
        )
    }
    /// Replaces the path (e.g. a resource-relative path by the virtual one).
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }
    /// The message without the path: the detail, or the GNU text.
    pub fn message(&self) -> &str {
        self.detail.as_deref().unwrap_or(self.kind.gnu_message())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {}", p, self.message()),
            None => f.write_str(self.message()),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        let kind = match e.kind() {
            K::NotFound => ErrorKind::NotFound,
            K::PermissionDenied => ErrorKind::PermissionDenied,
            K::AlreadyExists => ErrorKind::AlreadyExists,
            K::InvalidInput | K::InvalidData => ErrorKind::InvalidInput,
            K::BrokenPipe => ErrorKind::BrokenPipe,
            K::NotADirectory => ErrorKind::NotADirectory,
            K::IsADirectory => ErrorKind::IsADirectory,
            K::DirectoryNotEmpty => ErrorKind::DirectoryNotEmpty,
            K::ReadOnlyFilesystem => ErrorKind::ReadOnly,
            K::CrossesDevices => ErrorKind::CrossDevice,
            K::Unsupported => ErrorKind::Unsupported,
            _ => match e.raw_os_error() {
                Some(40) => ErrorKind::TooManyLinks, // ELOOP
                _ => ErrorKind::Io,
            },
        };
        Error::new(kind)
    }
}
