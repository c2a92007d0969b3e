//! Workspace end-to-end tests.
//!
//! `interop_*` tests check shared-trust against python-tuf 7, the TUF
//! reference implementation, in both directions, plus canonical JSON
//! agreement with securesystemslib. They run python as a subprocess with the
//! scripts in `tests/python/` and need `TUF_INTEROP_PYTHON` (see
//! `tests/python/README.md`); without it they fail, unless
//! `TUF_INTEROP_SKIP=1`.

#[path = "e2e/python.rs"]
mod python;
#[path = "e2e/support.rs"]
mod support;

#[path = "e2e/interop_canonical.rs"]
mod interop_canonical;
#[path = "e2e/interop_ngclient.rs"]
mod interop_ngclient;
#[path = "e2e/interop_python_repo.rs"]
mod interop_python_repo;

#[path = "e2e/guides.rs"]
mod guides;
#[path = "e2e/index.rs"]
mod index;
#[path = "e2e/install.rs"]
mod install;
#[path = "e2e/rustup.rs"]
mod rustup;
#[path = "e2e/static_server.rs"]
mod static_server;
