//! `isnad.v1.Log`: checkpoints, entries, proofs and a follow stream for mirrors and auditors.

use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use isnad_proto::contract::{
    ENTRIES_PER_RESPONSE_MAX, FOLLOW_MESSAGES_BUFFERED, FOLLOW_STREAMS_MAX, Reason,
};
use isnad_proto::pb;
use tonic::{Request, Response, Status};

use isnad_log::{LeafIndex, TreeSize};

use super::{blocking, hashes_to_wire};
use crate::error::LedgerError;
use crate::ledger::Ledger;
use crate::policy::{self, Access, Caller};

/// The log service.
#[derive(Debug, Clone)]
pub struct LogService {
    ledger: Ledger,
    /// One permit per follow stream served, held by its task until the stream ends.
    followers: Arc<tokio::sync::Semaphore>,
}

impl LogService {
    /// A log service over the ledger.
    pub fn new(ledger: Ledger) -> Self {
        Self {
            ledger,
            followers: Arc::new(tokio::sync::Semaphore::new(FOLLOW_STREAMS_MAX)),
        }
    }

    /// `size`, or the current size when 0; refuses a size beyond the current tree.
    fn size_or_current(&self, size: u64, field: &'static str) -> Result<u64, LedgerError> {
        let current = self.ledger.published().tree.size.0;
        match size {
            0 => Ok(current),
            s if s > current => Err(LedgerError::InvalidArgument {
                reason: Reason::BeyondTreeSize,
                message: format!("{field}: {s} is beyond the tree size {current}"),
                event: None,
            }),
            s => Ok(s),
        }
    }
}

type FollowStream =
    Pin<Box<dyn Stream<Item = Result<pb::FollowResponse, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl pb::log_server::Log for LogService {
    async fn get_checkpoint(
        &self,
        _request: Request<pb::GetCheckpointRequest>,
    ) -> Result<Response<pb::CheckpointResponse>, Status> {
        let published = self.ledger.published();
        Ok(Response::new(pb::CheckpointResponse {
            checkpoint: published.checkpoint,
            tree_size: published.tree.size.0,
        }))
    }

    async fn get_entries(
        &self,
        request: Request<pb::GetEntriesRequest>,
    ) -> Result<Response<pb::GetEntriesResponse>, Status> {
        let caller = Caller::of(&request);
        let pb::GetEntriesRequest { start, end } = request.into_inner();
        let access = if (start, end) == (0, 1) {
            Access::Genesis
        } else {
            Access::LogEntries
        };
        policy::authorize(&caller, access)?;
        let size = self.ledger.published().tree.size.0;
        if start >= end || end > size {
            return Err(LedgerError::InvalidArgument {
                reason: Reason::BadRange,
                message: format!("entries [{start}, {end}) are not within the tree of size {size}"),
                event: None,
            }
            .into());
        }
        if end - start > ENTRIES_PER_RESPONSE_MAX {
            return Err(LedgerError::ResourceExhausted {
                reason: Reason::RangeTooLong,
                message: format!(
                    "{} entries asked; at most {ENTRIES_PER_RESPONSE_MAX} per call",
                    end - start
                ),
                event: None,
            }
            .into());
        }
        let store = self.ledger.store().clone();
        let entries =
            blocking(move || Ok(store.entries(LeafIndex(start), LeafIndex(end))?)).await?;
        Ok(Response::new(pb::GetEntriesResponse { entries }))
    }

    async fn get_inclusion_proof(
        &self,
        request: Request<pb::GetInclusionProofRequest>,
    ) -> Result<Response<pb::InclusionProof>, Status> {
        let request = request.into_inner();
        let size = self.size_or_current(request.tree_size, "tree_size")?;
        let store = self.ledger.store().clone();
        let leaf = request.leaf;
        let proof = blocking(move || {
            let index = match leaf {
                Some(pb::get_inclusion_proof_request::Leaf::Index(index)) => index,
                Some(pb::get_inclusion_proof_request::Leaf::LeafHash(hash)) => {
                    let hash: isnad_log::Hash =
                        hash[..]
                            .try_into()
                            .map_err(|_| LedgerError::InvalidArgument {
                                reason: Reason::MalformedField,
                                message: format!("leaf_hash: {} bytes, expected 32", hash.len()),
                                event: None,
                            })?;
                    store
                        .index_of_leaf(&hash)?
                        .ok_or_else(|| LedgerError::NotFound {
                            reason: Reason::UnknownLeaf,
                            message: "no entry has this leaf hash".into(),
                        })?
                        .0
                }
                None => {
                    return Err(LedgerError::InvalidArgument {
                        reason: Reason::MalformedField,
                        message: "leaf: give an index or a leaf hash".into(),
                        event: None,
                    });
                }
            };
            if index >= size {
                return Err(LedgerError::NotFound {
                    reason: Reason::LeafNotInTree,
                    message: format!("entry {index} is not in the tree of size {size}"),
                });
            }
            let hashes = store.inclusion_proof(LeafIndex(index), TreeSize(size))?;
            Ok(pb::InclusionProof {
                leaf_index: index,
                tree_size: size,
                hashes: hashes_to_wire(&hashes),
            })
        })
        .await?;
        Ok(Response::new(proof))
    }

    async fn get_consistency_proof(
        &self,
        request: Request<pb::GetConsistencyProofRequest>,
    ) -> Result<Response<pb::ConsistencyProof>, Status> {
        let request = request.into_inner();
        let second = self.size_or_current(request.second_size, "second_size")?;
        let first = request.first_size;
        if first == 0 || first > second {
            return Err(LedgerError::InvalidArgument {
                reason: Reason::BadRange,
                message: format!("first_size {first} must be between 1 and second_size {second}"),
                event: None,
            }
            .into());
        }
        let store = self.ledger.store().clone();
        let hashes =
            blocking(move || Ok(store.consistency_proof(TreeSize(first), TreeSize(second))?))
                .await?;
        Ok(Response::new(pb::ConsistencyProof {
            first_size: first,
            second_size: second,
            hashes: hashes_to_wire(&hashes),
        }))
    }

    type FollowStream = FollowStream;

    async fn follow(
        &self,
        request: Request<pb::FollowRequest>,
    ) -> Result<Response<Self::FollowStream>, Status> {
        policy::authorize(&Caller::of(&request), Access::LogEntries)?;
        let Ok(permit) = Arc::clone(&self.followers).try_acquire_owned() else {
            return Err(LedgerError::ResourceExhausted {
                reason: Reason::TooManyFollowers,
                message: format!(
                    "{FOLLOW_STREAMS_MAX} follow streams are open on this server, the most it \
                     serves; follow again later"
                ),
                event: None,
            }
            .into());
        };
        let mut next = request.into_inner().start;
        let mut watch = self.ledger.watch();
        let store = self.ledger.store().clone();
        let ledger = self.ledger.clone();
        // Bounded: a follower that does not read stalls its own task, nothing else.
        let (sender, receiver) = tokio::sync::mpsc::channel(FOLLOW_MESSAGES_BUFFERED);
        tokio::spawn(async move {
            let _permit = permit;
            loop {
                let published = watch.borrow_and_update().clone();
                while next < published.tree.size.0 {
                    let end = published.tree.size.0.min(next + ENTRIES_PER_RESPONSE_MAX);
                    let store = store.clone();
                    let start = next;
                    let answer =
                        blocking(move || Ok(store.entries(LeafIndex(start), LeafIndex(end))?))
                            .await
                            .map(|entries| pb::FollowResponse {
                                start,
                                entries,
                                checkpoint: published.checkpoint.clone(),
                            });
                    let failed = answer.is_err();
                    if sender.send(answer.map_err(Status::from)).await.is_err() || failed {
                        return;
                    }
                    next = end;
                }
                // Wait for the next commit. A follower is told when the server stops, so that
                // it reconnects elsewhere and the server's drain does not wait on it.
                // A follower gone while the log is quiet frees its place at once.
                tokio::select! {
                    changed = watch.changed() => if changed.is_err() { return },
                    () = sender.closed() => return,
                    () = ledger.closed() => {
                        let status = LedgerError::Unavailable("the server is shutting down; follow again later".into());
                        let _ = sender.send(Err(status.into())).await;
                        return;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(receiver),
        )))
    }
}
