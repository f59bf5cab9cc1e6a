//! Token embeddings, forward and backward (`embedding.wgsl`).

use super::kernels::{EmbeddingParams, Kernel};
use super::{count, u, Gpu, GpuTensor};

fn params(tokens: usize, vocab: usize, dim: usize, padding: bool) -> EmbeddingParams {
    EmbeddingParams {
        tokens: u(tokens),
        vocab: u(vocab),
        dim: u(dim),
        padding: u32::from(padding),
    }
}

pub(super) fn embedding(gpu: &Gpu, ids: &GpuTensor, table: &GpuTensor, padding: bool) -> GpuTensor {
    let (vocab, dim) = (table.shape[0], table.shape[1]);
    let shape: Vec<usize> = ids.shape.iter().copied().chain([dim]).collect();
    let p = params(ids.len(), vocab, dim, padding);
    gpu.map(Kernel::Embedding, &p, &[ids, table], &shape, count(&shape))
}

pub(super) fn embedding_backward(gpu: &Gpu, ids: &GpuTensor, dy: &GpuTensor, vocab: usize, padding: bool) -> GpuTensor {
    let dim = *dy.shape.last().expect("an embedding's gradient has rows");
    assert_eq!(dy.len(), ids.len() * dim, "one gradient row per token");
    let p = params(ids.len(), vocab, dim, padding);
    gpu.map(
        Kernel::EmbeddingBackward,
        &p,
        &[ids, dy],
        &[vocab, dim],
        count(&[vocab, dim]),
    )
}
