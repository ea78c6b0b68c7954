//! The ledger state of a [`Store`] as the executor reads it.

use isnad_core::state::{StateView, StorageError};

use crate::{StatePair, Store};

impl StateView for Store {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        self.state_get(key).map_err(storage_error)
    }

    fn scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<StatePair>, StorageError> {
        self.state_scan(prefix, after, limit).map_err(storage_error)
    }

    fn scan_last(&self, prefix: &[u8], limit: usize) -> Result<Vec<StatePair>, StorageError> {
        self.state_scan_last(prefix, limit).map_err(storage_error)
    }
}

/// Keeps the whole chain of causes, since `StorageError` carries only text.
fn storage_error(error: crate::StoreError) -> StorageError {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    StorageError(message)
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;
    use isnad_core::state::{MemState, StateView};
    use isnad_log::checkpoint::NoteSigner;

    use crate::Store;

    /// The store answers like the in-memory state the executor is tested with.
    #[test]
    fn store_reads_like_the_in_memory_state() {
        let pairs: Vec<(Vec<u8>, Vec<u8>)> = [("a/1", "x"), ("a/2", "y"), ("b/1", "z")]
            .iter()
            .map(|(key, value)| (key.as_bytes().to_vec(), value.as_bytes().to_vec()))
            .collect();
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("open");
        let signer = NoteSigner::new("log", SigningKey::from_bytes(&[1; 32])).expect("name");
        let writes = pairs
            .iter()
            .map(|(key, value)| (key.clone(), Some(value.clone())))
            .collect();
        store
            .append(&[b"entry".to_vec()], writes, &signer)
            .expect("append");
        let mut memory = MemState::new();
        memory.apply(&isnad_core::state::Writes(
            pairs
                .iter()
                .map(|(key, value)| (key.clone(), Some(value.clone())))
                .collect(),
        ));
        for key in [&b"a/1"[..], b"b/1", b"c"] {
            assert_eq!(StateView::get(&store, key), memory.get(key));
        }
        for (prefix, after, limit) in [
            (&b"a/"[..], None, 10),
            (b"a/", Some(&b"a/1"[..]), 10),
            (b"", None, 2),
        ] {
            assert_eq!(
                store.scan(prefix, after, limit),
                memory.scan(prefix, after, limit)
            );
        }
        // Read backwards by the store, forwards by the in-memory state's default.
        for (prefix, limit) in [(&b"a/"[..], 1), (b"a/", 5), (b"", 2), (b"b/", 0), (b"c", 3)] {
            assert_eq!(
                store.scan_last(prefix, limit),
                memory.scan_last(prefix, limit),
                "{prefix:?} {limit}"
            );
        }
    }
}
