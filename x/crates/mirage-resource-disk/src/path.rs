//! Turning resource paths into paths relative to the confined root.

use std::path::PathBuf;

use mirage_types::{Error, ErrorKind, Result};

/// `/a/b` → `a/b`, `/` → `.`. Components are turned back into their exact
/// bytes ([`mirage_types::bytestr::encode`]), so any host name is reachable. Empty and `.` components are dropped; a
/// `..` component is refused with `PermissionDenied` (resource paths are
/// normalised by the router, so one only arrives from a confused or
/// hostile caller). cap-std enforces confinement again at the system-call
/// level, for symlinks too.
pub(crate) fn relative(path: &str) -> Result<PathBuf> {
    let mut out = PathBuf::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                return Err(Error::msg(
                    ErrorKind::PermissionDenied,
                    "path leads outside the mount",
                )
                .with_path(path));
            }
            c if c.contains('\0') => return Err(Error::at(ErrorKind::InvalidInput, path)),
            c => out.push(
                <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(
                    &mirage_types::bytestr::encode(c),
                ),
            ),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    Ok(out)
}

/// Whether `rel` (from [`relative`]) names the root.
pub(crate) fn is_root(rel: &std::path::Path) -> bool {
    rel.as_os_str() == "."
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(relative("/").unwrap(), PathBuf::from("."));
        assert_eq!(relative("/a//b/./c").unwrap(), PathBuf::from("a/b/c"));
        assert_eq!(
            relative("/../etc").unwrap_err().kind,
            ErrorKind::PermissionDenied
        );
        assert_eq!(
            relative("a/../../x").unwrap_err().kind,
            ErrorKind::PermissionDenied
        );
    }
}
