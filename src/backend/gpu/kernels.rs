//! Every kernel of the GPU backend, by name, with the parameters it reads and the WGSL file it
//! lives in.
//!
//! - A kernel is a [`Kernel`]: a dispatch names it, so a misspelt kernel does not compile.
//! - Its small parameters (sizes, rates, flags) are a `#[repr(C)]` struct of `u32` and `f32`
//!   fields, declared once below with [`params!`]: the same declaration gives the WGSL struct of the
//!   same name and a loader (`pool_params()` for `PoolParams`) that reads it from the dispatch's
//!   slice of the parameter arena, so the host and the kernel cannot disagree on a field's place.
//!   A dispatch checks that it passes the struct its kernel reads.
//! - The WGSL files sit beside the Rust file of their operation (`pool.wgsl` by `pool.rs`).

use std::any::TypeId;

/// A value of a parameter struct, as the 32-bit word the arena holds.
pub trait Word {
    const WGSL: &'static str;
    fn word(self) -> u32;
}

impl Word for u32 {
    const WGSL: &'static str = "u32";
    fn word(self) -> u32 {
        self
    }
}

impl Word for f32 {
    const WGSL: &'static str = "f32";
    fn word(self) -> u32 {
        self.to_bits()
    }
}

/// A kernel's parameters: its words in field order, and its WGSL declaration.
pub trait Params: 'static {
    fn words(&self) -> Vec<u32>;
    /// The WGSL struct, its loader, and `{loader}_words`, the words it takes (where a kernel's
    /// trailing values begin).
    fn wgsl() -> String;
}

/// Declares parameter structs: `Name / loader { field: u32 | f32, … }`.
macro_rules! params {
    ($($(#[$doc:meta])* $name:ident / $loader:ident { $($field:ident: $ty:ty),* $(,)? })*) => {
        $(
            $(#[$doc])*
            #[repr(C)]
            #[derive(Clone, Copy, Debug, Default)]
            pub struct $name {
                $(pub $field: $ty,)*
            }

            impl Params for $name {
                fn words(&self) -> Vec<u32> {
                    vec![$(Word::word(self.$field)),*]
                }

                fn wgsl() -> String {
                    let fields: &[(&str, &str)] = &[$((stringify!($field), <$ty as Word>::WGSL)),*];
                    let members: Vec<String> = fields.iter().map(|(f, t)| format!("{f}: {t}")).collect();
                    let reads: Vec<String> = fields
                        .iter()
                        .enumerate()
                        .map(|(i, (_, t))| match *t {
                            "f32" => format!("bitcast<f32>(params[{i}])"),
                            _ => format!("params[{i}]"),
                        })
                        .collect();
                    format!(
                        "struct {name} {{ {members} }}\nfn {loader}() -> {name} {{ return {name}({reads}); }}\nconst {loader}_words = {n}u;\n",
                        name = stringify!($name),
                        loader = stringify!($loader),
                        members = members.join(", "),
                        reads = reads.join(", "),
                        n = fields.len(),
                    )
                }
            }
        )*

        /// The WGSL of every parameter struct, prepended to every kernel file.
        pub fn params_wgsl() -> String {
            [$(<$name as Params>::wgsl()),*].concat()
        }
    };
}

params! {
    /// A matrix product `c = op(a)·op(b)` `[m, k]·[k, n]`: `flags` 1 transposes a, 2 transposes b,
    /// 4 adds the bias row, 8 writes each workgroup layer's partial product to `c[z·m·n..]`; each
    /// layer sums `k_per_split` terms of k.
    MatmulParams / matmul_params { m: u32, k: u32, n: u32, flags: u32, k_per_split: u32 }
    /// The sum of split partial products `[splits, m, n]` into `[m, n]` (`flags` 4: plus the bias row).
    SplitsParams / splits_params { m: u32, n: u32, splits: u32, flags: u32 }
    /// A convolution of `x` `[n, c, h, w]` by `filters` kernels `[kh, kw]` into `[oh, ow]`; the
    /// barrier-free kernels also read `flags` (4: add the bias; 8: write each layer's partial
    /// weight gradient) and the output positions each workgroup layer sums (`per_split`).
    ConvParams / conv_params {
        n: u32, c: u32, h: u32, w: u32, kh: u32, kw: u32, oh: u32, ow: u32, stride: u32, padding: u32,
        filters: u32, flags: u32, per_split: u32,
    }
    /// A move between `[n, o, q]` and `[o, n, q]` (`channels_first`, `batch_first_bias`).
    PlanesParams / planes_params { n: u32, o: u32, q: u32 }
    /// Pooling `planes` planes `[h, w]` into `[oh, ow]` with a square window.
    PoolParams / pool_params { planes: u32, h: u32, w: u32, oh: u32, ow: u32, size: u32, stride: u32 }
    /// A per-channel op over `[n, c, inner]` (layer norm reads `[rows, d]` as `n`, `c`, 1).
    NormParams / norm_params { n: u32, c: u32, inner: u32, eps: f32 }
    /// A row-wise op over `[rows, k]` (softmax, cross-entropy).
    RowsParams / rows_params { rows: u32, k: u32 }
    /// One recurrent step of `n` rows and `units` units; `offset` is step t's place in the input
    /// projections of every step.
    StepParams / step_params { n: u32, units: u32, offset: u32 }
    /// An element-wise op over `len` values.
    LenParams / len_params { len: u32 }
    /// An element-wise op with one number: a rate, a limit, a blend, a norm.
    ScaleParams / scale_params { len: u32, value: f32 }
    /// An activation (`kind` 0 ReLU, 1 leaky ReLU with slope `alpha`, 2 tanh, 3 sigmoid, 4 GELU).
    ActivationParams / activation_params { len: u32, kind: u32, alpha: f32 }
    /// The L1 and L2 penalties' gradient added to a gradient.
    PenaltyParams / penalty_params { len: u32, l1: f32, l2: f32 }
    /// Momentum (heavy-ball or Nesterov).
    MomentumParams / momentum_params { len: u32, lr: f32, momentum: f32, nesterov: u32 }
    /// Adam with bias correction folded into `alpha` and `eps`, and decoupled weight `decay` (lr·λ).
    AdamParams / adam_params { len: u32, alpha: f32, beta1: f32, beta2: f32, eps: f32, decay: f32 }
    /// RMSprop.
    RmspropParams / rmsprop_params { len: u32, lr: f32, rho: f32, eps: f32 }
    /// Square sums of up to six inputs at once: each input's length (0: unused) and whether its
    /// values are squared.
    SumsParams / sums_params {
        len0: u32, square0: u32, len1: u32, square1: u32, len2: u32, square2: u32,
        len3: u32, square3: u32, len4: u32, square4: u32, len5: u32, square5: u32,
    }
    /// `threads` shares of the squares of `len` values.
    SharesParams / shares_params { len: u32, threads: u32 }
    /// A copy of whole rows `width` wide into `len` values; the source row of each output row
    /// follows the struct.
    GatherParams / gather_params { len: u32, width: u32 }
    /// `[a, b, inner]` → `[b, a, inner]`.
    SwapParams / swap_params { a: u32, b: u32, inner: u32 }
    /// Token embeddings: `tokens` ids into a `[vocab, dim]` table; `padding` 1 makes id 0 padding.
    EmbeddingParams / embedding_params { tokens: u32, vocab: u32, dim: u32, padding: u32 }
    /// An op over the steps of `n` sequences `[steps, dim]`; `masked` 1: a padding mask `[n, steps]`.
    StepsParams / steps_params { n: u32, steps: u32, dim: u32, masked: u32 }
    /// Multi-head attention over `n` sequences of `steps` steps, `heads` heads of `key` values;
    /// `masked` 1: a padding mask `[n, steps]`; `causal` 1: no step attends to a later one; the
    /// scores' `scale`.
    AttentionParams / attention_params {
        n: u32, steps: u32, heads: u32, key: u32, masked: u32, causal: u32, scale: f32,
    }
    /// A dropout mask of `len` values keeping each with probability `keep`.
    MaskParams / mask_params { len: u32, seed: u32, keep: f32 }
    /// Augmenting images `[n, c, h, w]`, with the seed of their noise.
    ImageParams / image_params { n: u32, c: u32, h: u32, w: u32, seed: u32 }
    /// Image features of `[n, c, h, w]` (`flags` 1: greyscale, 2: edges) with `channels` outputs.
    FeatureParams / feature_params { n: u32, c: u32, h: u32, w: u32, flags: u32, channels: u32 }
}

/// A file of kernels: a WGSL file, or a template the file is written from.
pub enum Source {
    /// Compiled as it is.
    Plain(&'static str),
    /// Compiled twice: over `f32` and over `vec4<f32>` (`{T}`; `{V}` ends the vec4 entries' names
    /// in `_vec4`), for the element-wise kernels.
    ElementWise(&'static str),
    /// `matmul.wgsl`'s tiled template, in the tile shape [`MATMUL_TILES`] gives its kernel.
    MatmulTiles,
    /// `matmul_registers.wgsl`'s register-block template, for the transposes and operand width
    /// of its kernel's place in [`MATMUL_REGISTERS`].
    MatmulRegisters,
    /// A convolution register-block template, after `conv_pixel.wgsl`'s shared reader, with its block.
    ConvRegisters(&'static str, Block),
}

/// The block of outputs each thread of a barrier-free product or convolution keeps in registers:
/// `rows` × 4·`vecs`.
#[derive(Clone, Copy, Debug)]
pub struct Block {
    pub rows: usize,
    pub vecs: usize,
}

impl Block {
    pub const fn cols(self) -> usize {
        4 * self.vecs
    }
}

/// `matmul_registers.wgsl`'s block: rows of c × columns of c.
pub const MATMUL_BLOCK: Block = Block { rows: 8, vecs: 2 };
/// `conv_registers.wgsl`'s block: filters × output positions.
pub const CONV_FORWARD_BLOCK: Block = Block { rows: 8, vecs: 2 };
/// `conv_weight_registers.wgsl`'s block: filters × kernel taps.
pub const CONV_WEIGHT_BLOCK: Block = Block { rows: 8, vecs: 2 };

/// Threads in a workgroup of the kernels that software adapters run a few dozen threads of: the
/// register-block kernels (one block a thread) and the square sum's shares. `{GROUP}` in any
/// kernel's source. A software adapter runs each workgroup on one CPU thread, so small workgroups
/// keep every core busy on a product of a few dozen blocks (the MLP's first layer at batch 32 has
/// 64): the MLP step on SwiftShader took 9–11 ms with 64 threads a workgroup, 6.7–7.7 ms with 8.
pub const REGISTER_GROUP: usize = 8;

/// Tile shapes of the tiled product: `(kernel, WX, WY, KT)`; each workgroup of WX×WY threads
/// computes a (4·WY)×(4·WX) tile of the product, reading k in slices of KT.
pub const MATMUL_TILES: [(Kernel, u32, u32, u32); 4] = [
    (Kernel::MatmulSquare, 16, 16, 16),
    (Kernel::MatmulWide, 64, 4, 8),
    (Kernel::MatmulTall, 4, 64, 8),
    (Kernel::MatmulSmall, 8, 4, 32),
];

/// The barrier-free product, one kernel per `(transpose a, transpose b, vec4 operands)` at index
/// `ta + 2·tb + 4·vec4`; each thread computes one [`MATMUL_BLOCK`], the threads walking the blocks
/// of c row by row. The vec4 kernels need m, k, n and the k per split to be multiples of 4.
pub const MATMUL_REGISTERS: [Kernel; 8] = [
    Kernel::MatmulRegistersNn,
    Kernel::MatmulRegistersTn,
    Kernel::MatmulRegistersNt,
    Kernel::MatmulRegistersTt,
    Kernel::MatmulRegistersNnVec4,
    Kernel::MatmulRegistersTnVec4,
    Kernel::MatmulRegistersNtVec4,
    Kernel::MatmulRegistersTtVec4,
];

const COMMON: &str = include_str!("common.wgsl");
const MATMUL: &str = include_str!("matmul.wgsl");
const MATMUL_REGISTERS_TEMPLATE: &str = include_str!("matmul_registers.wgsl");
const MATMUL_OPERANDS: &str = include_str!("matmul_operands.wgsl");
const MATMUL_OPERANDS_VEC4: &str = include_str!("matmul_operands_vec4.wgsl");
const CONV_PIXEL: &str = include_str!("conv_pixel.wgsl");

impl Source {
    /// The shader modules of this file: each module's WGSL (the common functions and every
    /// parameter struct first) and the kernels it holds.
    pub fn modules(&self, kernels: &[Kernel]) -> Vec<(String, Vec<Kernel>)> {
        let entry = || kernels[0].entry();
        let bodies: Vec<(String, Vec<Kernel>)> = match *self {
            Source::Plain(text) => vec![(text.to_string(), kernels.to_vec())],
            Source::ElementWise(text) => {
                let (vec4, scalar): (Vec<Kernel>, Vec<Kernel>) =
                    kernels.iter().partition(|k| k.entry().ends_with("_vec4"));
                vec![
                    (text.replace("{T}", "f32").replace("{V}", ""), scalar),
                    (text.replace("{T}", "vec4<f32>").replace("{V}", "_vec4"), vec4),
                ]
            }
            Source::MatmulTiles => {
                let &(_, wx, wy, kt) = MATMUL_TILES
                    .iter()
                    .find(|t| t.0 == kernels[0])
                    .expect("a tiled product kernel");
                vec![(matmul_source(entry(), wx, wy, kt), kernels.to_vec())]
            }
            Source::MatmulRegisters => {
                let i = MATMUL_REGISTERS
                    .iter()
                    .position(|&k| k == kernels[0])
                    .expect("a register-block product kernel");
                let (ta, tb, vec4) = (i & 1 != 0, i & 2 != 0, i & 4 != 0);
                vec![(matmul_registers_source(entry(), ta, tb, vec4), kernels.to_vec())]
            }
            Source::ConvRegisters(text, block) => {
                vec![(
                    register_block(&format!("{CONV_PIXEL}\n{text}"), block),
                    kernels.to_vec(),
                )]
            }
        };
        let prelude = format!("{COMMON}\n{}", params_wgsl());
        bodies
            .into_iter()
            .map(|(body, kernels)| {
                (
                    format!("{prelude}\n{body}").replace("{GROUP}", &REGISTER_GROUP.to_string()),
                    kernels,
                )
            })
            .collect()
    }
}

fn matmul_source(name: &str, wx: u32, wy: u32, kt: u32) -> String {
    let (tm, tn) = (4 * wy, 4 * wx);
    MATMUL
        .replace("{NAME}", name)
        .replace("{TM}", &tm.to_string())
        .replace("{TN}", &tn.to_string())
        .replace("{KT}", &kt.to_string())
        .replace("{WX}", &wx.to_string())
        .replace("{WY}", &wy.to_string())
        .replace("{TILE_A}", &(kt * tm).to_string())
        .replace("{TILE_B}", &(kt * tn).to_string())
}

/// Expands a register-block template for `block`: a line that names `#r` is written once for each
/// row, one that names `#v` once for each vec4 of columns (both: for every pair, rows outermost),
/// with the index in place of the name; on a row's line `#h` and `#c` become the row's group of
/// four and its place in it, and a line that names `#h` but not `#r` is written once per group
/// of four rows. `{ROWS}` and `{COLS}` become the block's extent. Unrolled in the source, so that
/// no shader compiler has to keep an array of accumulators in registers.
fn register_block(source: &str, block: Block) -> String {
    assert!(
        block.rows.is_multiple_of(4),
        "register blocks have rows in groups of four"
    );
    let mut out = String::with_capacity(source.len() * 2);
    for line in source.lines() {
        let (rows, per_row) = match (line.contains("#r"), line.contains("#h")) {
            (true, _) => (block.rows, 1),
            (false, true) => (block.rows / 4, 4),
            (false, false) => (1, 1),
        };
        let vecs = if line.contains("#v") { block.vecs } else { 1 };
        for i in 0..rows {
            let r = i * per_row;
            for v in 0..vecs {
                out += &line
                    .replace("#r", &r.to_string())
                    .replace("#h", &(r / 4).to_string())
                    .replace("#c", &(r % 4).to_string())
                    .replace("#v", &v.to_string());
                out.push('\n');
            }
        }
    }
    out.replace("{ROWS}", &block.rows.to_string())
        .replace("{COLS}", &block.cols().to_string())
}

/// `matmul_registers.wgsl` for one pipeline: the operand readers, and of the lines tagged with a
/// transpose (`//@NA`, `//@TA`, `//@NB`, `//@TB`) those of this pipeline's, untagged.
fn matmul_registers_source(name: &str, ta: bool, tb: bool, vec4: bool) -> String {
    let keep = [if ta { "//@TA" } else { "//@NA" }, if tb { "//@TB" } else { "//@NB" }];
    let body: String = MATMUL_REGISTERS_TEMPLATE
        .lines()
        .filter_map(|line| match line.rsplit_once(" //@") {
            Some((code, tag)) => keep.contains(&format!("//@{tag}").as_str()).then_some(code),
            None => Some(line),
        })
        .map(|line| format!("{line}\n"))
        .collect();
    let operands = if vec4 { MATMUL_OPERANDS_VEC4 } else { MATMUL_OPERANDS };
    register_block(&format!("{operands}\n{}", body.replace("{NAME}", name)), MATMUL_BLOCK)
}

/// Declares the kernels: `Name: Params = "entry" in FILE` for each, grouped by file.
macro_rules! kernels {
    ($($file:expr => [$($kernel:ident: $params:ty = $entry:literal),* $(,)?],)*) => {
        /// Every kernel the backend dispatches.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Kernel {
            $($($kernel,)*)*
        }

        impl Kernel {
            /// Its entry point in its WGSL file.
            pub fn entry(self) -> &'static str {
                match self {
                    $($(Kernel::$kernel => $entry,)*)*
                }
            }

            /// The parameter struct it reads.
            pub fn params(self) -> TypeId {
                match self {
                    $($(Kernel::$kernel => TypeId::of::<$params>(),)*)*
                }
            }
        }

        /// Each file of kernels, with its kernels in the order they are defined.
        pub fn files() -> Vec<(&'static str, Source, Vec<Kernel>)> {
            vec![$({
                let (name, source) = $file;
                (name, source, vec![$(Kernel::$kernel),*])
            },)*]
        }
    };
}

use Source::*;

kernels! {
    ("matmul_square", MatmulTiles) => [MatmulSquare: MatmulParams = "matmul_square"],
    ("matmul_wide", MatmulTiles) => [MatmulWide: MatmulParams = "matmul_wide"],
    ("matmul_tall", MatmulTiles) => [MatmulTall: MatmulParams = "matmul_tall"],
    ("matmul_small", MatmulTiles) => [MatmulSmall: MatmulParams = "matmul_small"],
    ("matmul_registers_nn", MatmulRegisters) => [MatmulRegistersNn: MatmulParams = "matmul_registers_nn"],
    ("matmul_registers_tn", MatmulRegisters) => [MatmulRegistersTn: MatmulParams = "matmul_registers_tn"],
    ("matmul_registers_nt", MatmulRegisters) => [MatmulRegistersNt: MatmulParams = "matmul_registers_nt"],
    ("matmul_registers_tt", MatmulRegisters) => [MatmulRegistersTt: MatmulParams = "matmul_registers_tt"],
    ("matmul_registers_nn_vec4", MatmulRegisters) => [MatmulRegistersNnVec4: MatmulParams = "matmul_registers_nn_vec4"],
    ("matmul_registers_tn_vec4", MatmulRegisters) => [MatmulRegistersTnVec4: MatmulParams = "matmul_registers_tn_vec4"],
    ("matmul_registers_nt_vec4", MatmulRegisters) => [MatmulRegistersNtVec4: MatmulParams = "matmul_registers_nt_vec4"],
    ("matmul_registers_tt_vec4", MatmulRegisters) => [MatmulRegistersTtVec4: MatmulParams = "matmul_registers_tt_vec4"],
    ("matmul_splits", Plain(include_str!("matmul_splits.wgsl"))) => [
        SumSplits: SplitsParams = "sum_splits",
        SumSplitsSerial: SplitsParams = "sum_splits_serial",
    ],
    ("conv", Plain(include_str!("conv.wgsl"))) => [
        Im2col: ConvParams = "im2col",
        Col2im: ConvParams = "col2im",
        ChannelsFirst: PlanesParams = "channels_first",
        BatchFirstBias: PlanesParams = "batch_first_bias",
    ],
    ("conv_registers", ConvRegisters(include_str!("conv_registers.wgsl"), CONV_FORWARD_BLOCK)) => [
        ConvForwardRegisters: ConvParams = "conv_forward_registers",
    ],
    ("conv_weight_registers", ConvRegisters(include_str!("conv_weight_registers.wgsl"), CONV_WEIGHT_BLOCK)) => [
        ConvWeightGradRegisters: ConvParams = "conv_weight_grad_registers",
    ],
    ("pool", Plain(include_str!("pool.wgsl"))) => [
        MaxPool: PoolParams = "max_pool",
        MaxPoolBackward: PoolParams = "max_pool_backward",
        MaxPoolBackwardScatter: PoolParams = "max_pool_backward_scatter",
        AvgPool: PoolParams = "avg_pool",
        AvgPoolBackward: PoolParams = "avg_pool_backward",
    ],
    ("norm", Plain(include_str!("norm.wgsl"))) => [
        ChannelMoments: NormParams = "channel_moments",
        BatchNorm: NormParams = "batch_norm",
        BatchNormParamGrads: NormParams = "batch_norm_param_grads",
        BatchNormInputGrad: NormParams = "batch_norm_input_grad",
        LayerNorm: NormParams = "layer_norm",
        LayerNormParamGrads: NormParams = "layer_norm_param_grads",
        LayerNormInputGrad: NormParams = "layer_norm_input_grad",
    ],
    ("loss", Plain(include_str!("loss.wgsl"))) => [
        SoftmaxCrossEntropy: RowsParams = "softmax_cross_entropy",
        SoftmaxCrossEntropySerial: RowsParams = "softmax_cross_entropy_serial",
        LossTotalsSerial: RowsParams = "loss_totals_serial",
    ],
    ("recurrent", Plain(include_str!("recurrent.wgsl"))) => [
        LstmStep: StepParams = "lstm_step",
        LstmStepBackward: StepParams = "lstm_step_backward",
        GruStep: StepParams = "gru_step",
        GruStepBackward: StepParams = "gru_step_backward",
    ],
    ("update", ElementWise(include_str!("update.wgsl"))) => [
        AddAssign: LenParams = "add_assign",
        Sgd: ScaleParams = "sgd",
        Momentum: MomentumParams = "momentum",
        Adam: AdamParams = "adam",
        Rmsprop: RmspropParams = "rmsprop",
        AddAssignVec4: LenParams = "add_assign_vec4",
        SgdVec4: ScaleParams = "sgd_vec4",
        MomentumVec4: MomentumParams = "momentum_vec4",
        AdamVec4: AdamParams = "adam_vec4",
        RmspropVec4: RmspropParams = "rmsprop_vec4",
    ],
    ("gradient", Plain(include_str!("gradient.wgsl"))) => [
        AddPenalty: PenaltyParams = "add_penalty",
        AddSquareSum: LenParams = "add_square_sum",
        AddSumSerial: SumsParams = "add_sum_serial",
        SquareSumParts: SharesParams = "square_sum_parts",
        ScaleToNorm: ScaleParams = "scale_to_norm",
        ClampValues: ScaleParams = "clamp_values",
        Lerp: ScaleParams = "lerp",
    ],
    ("activation", ElementWise(include_str!("activation.wgsl"))) => [
        Activation: ActivationParams = "activation",
        ActivationBackward: ActivationParams = "activation_backward",
        ActivationVec4: ActivationParams = "activation_vec4",
        ActivationBackwardVec4: ActivationParams = "activation_backward_vec4",
    ],
    ("tensor", Plain(include_str!("tensor.wgsl"))) => [
        Mul: LenParams = "mul",
        AddBias: PlanesParams = "add_bias",
        ChannelSum: PlanesParams = "channel_sum",
        ChannelSumSerial: PlanesParams = "channel_sum_serial",
        SumAll: LenParams = "sum_all",
        GatherRows: GatherParams = "gather_rows",
        SwapLeading: SwapParams = "swap_leading",
        DropoutMask: MaskParams = "dropout_mask",
        Softmax: RowsParams = "softmax",
    ],
    ("embedding", Plain(include_str!("embedding.wgsl"))) => [
        Embedding: EmbeddingParams = "embedding",
        EmbeddingBackward: EmbeddingParams = "embedding_backward",
    ],
    ("sequence", Plain(include_str!("sequence.wgsl"))) => [
        MeanSteps: StepsParams = "mean_steps",
        MeanStepsBackward: StepsParams = "mean_steps_backward",
    ],
    ("attention", Plain(include_str!("attention.wgsl"))) => [
        AttentionWeights: AttentionParams = "attention_weights",
        AttentionMix: AttentionParams = "attention_mix",
        AttentionMixTransposed: AttentionParams = "attention_mix_transposed",
        AttentionDweights: AttentionParams = "attention_dweights",
        AttentionDscores: AttentionParams = "attention_dscores",
    ],
    ("augment", Plain(include_str!("augment.wgsl"))) => [Augment: ImageParams = "augment"],
    ("features", Plain(include_str!("features.wgsl"))) => [ImageFeatures: FeatureParams = "image_features"],
}

impl Kernel {
    /// The vec4 twin of an element-wise kernel, which takes four values a thread.
    pub fn vec4(self) -> Kernel {
        match self {
            Kernel::AddAssign => Kernel::AddAssignVec4,
            Kernel::Sgd => Kernel::SgdVec4,
            Kernel::Momentum => Kernel::MomentumVec4,
            Kernel::Adam => Kernel::AdamVec4,
            Kernel::Rmsprop => Kernel::RmspropVec4,
            Kernel::Activation => Kernel::ActivationVec4,
            Kernel::ActivationBackward => Kernel::ActivationBackwardVec4,
            other => panic!("{other:?} has no vec4 twin"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kernel_is_in_one_file_once_and_named_as_its_entry() {
        let mut seen = std::collections::HashSet::new();
        for (file, source, kernels) in files() {
            for k in kernels {
                assert!(seen.insert(k), "{k:?} is in two files");
                let text = match source {
                    Plain(text) | ElementWise(text) => {
                        text.replace("{V}", if k.entry().ends_with("_vec4") { "_vec4" } else { "" })
                    }
                    _ => continue,
                };
                assert!(
                    text.contains(&format!("fn {}(", k.entry())),
                    "{file} has no entry point {}",
                    k.entry()
                );
            }
        }
    }

    #[test]
    fn a_struct_declares_its_fields_in_order_and_reads_floats_as_bits() {
        let wgsl = AdamParams::wgsl();
        assert!(wgsl
            .starts_with("struct AdamParams { len: u32, alpha: f32, beta1: f32, beta2: f32, eps: f32, decay: f32 }"));
        assert!(wgsl.contains("return AdamParams(params[0], bitcast<f32>(params[1]),"));
        assert!(wgsl.contains("const adam_params_words = 6u;"));
        let p = AdamParams {
            len: 3,
            alpha: 0.5,
            ..Default::default()
        };
        assert_eq!(p.words(), [3, 0.5f32.to_bits(), 0, 0, 0, 0]);
        assert_eq!(std::mem::size_of::<AdamParams>(), 4 * p.words().len());
    }
}
