//! Max and average pooling layers.

use super::spec::{product, Inferred, Kind, Place};
use super::{Layer, Mode};
use crate::backend::{Backend, PoolGeometry};
use crate::catalogue::{self, integer, Field, LayerKind};
use crate::onnx::{Attr, Graph};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

fn size_field() -> Field {
    integer("size", "size", 2, 1.0, "window side (the stride defaults to it)")
}

fn infer(g: PoolGeometry, input: &[usize]) -> Result<Inferred, String> {
    let &[channels, h, w] = input else {
        return Err(format!("needs a [channels, height, width] input but gets {input:?}"));
    };
    if g.size == 0 || g.stride == 0 {
        return Err("size and stride must be at least 1".into());
    }
    let (Some(oh), Some(ow)) = (g.output_extent(h), g.output_extent(w)) else {
        return Err(format!("a {0}x{0} window does not fit a {h}x{w} input", g.size));
    };
    Ok(Inferred {
        output: vec![channels, oh, ow],
        params: 0,
        flops: product(&[channels, oh, ow, g.size, g.size]),
    })
}

fn onnx(op: &str, g: PoolGeometry, graph: &mut Graph, name: &str, x: &str) -> String {
    let (k, s) = (g.size as i64, g.stride as i64);
    let attrs = vec![
        ("kernel_shape", Attr::Ints(vec![k, k])),
        ("strides", Attr::Ints(vec![s, s])),
    ];
    graph.op(op, name, &[x], attrs)
}

/// A pooling kind's settings struct (a square window and its stride, the window's side when not
/// set) and its `Kind`: named `$name` with `$doc`, run as `$kind`, `$onnx` in ONNX and `$torch`
/// of `torch.nn` in PyTorch.
macro_rules! pooling {
    ($(#[$attr:meta])* $spec:ident, $name:literal, $doc:literal, $kind:expr, $onnx:literal, $torch:literal) => {
        $(#[$attr])*
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $spec {
            pub size: usize,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub stride: Option<usize>,
        }

        impl $spec {
            fn geometry(&self) -> PoolGeometry {
                PoolGeometry {
                    size: self.size,
                    stride: self.stride.unwrap_or(self.size),
                }
            }
        }

        impl Kind for $spec {
            const TORCH: &'static str = concat!(
                "def build_", $name, "(layer, shape, init):\n",
                "    size = layer[\"size\"]\n",
                "    stride = layer.get(\"stride\") or size\n",
                "    channels, h, w = shape\n",
                "    return nn.", $torch, "(size, stride), [channels, (h - size) // stride + 1, (w - size) // stride + 1]\n",
                "\n\nBUILDERS[\"", $name, "\"] = build_", $name, "\n"
            );

            fn entry() -> LayerKind {
                catalogue::layer($name, $doc, false, vec![size_field()])
            }

            fn sizes(&self) -> Vec<(&'static str, usize)> {
                let g = self.geometry();
                vec![("size", g.size), ("stride", g.stride)]
            }

            fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
                infer(self.geometry(), input)
            }

            fn build<B: Backend>(&self, _: &B, _: Place, _: &mut Rng) -> Box<dyn Layer<B>> {
                Box::new(Pool2d::new($kind, self.geometry()))
            }

            fn onnx(&self, graph: &mut Graph, name: &str, x: &str, _: &[usize]) -> String {
                onnx($onnx, self.geometry(), graph, name, x)
            }
        }
    };
}

pooling!(
    /// Max pooling's settings.
    MaxPool2dSpec,
    "max_pool2d",
    "the largest value of each window",
    PoolKind::Max,
    "MaxPool",
    "MaxPool2d"
);
pooling!(
    /// Average pooling's settings.
    AvgPool2dSpec,
    "avg_pool2d",
    "the mean of each window",
    PoolKind::Average,
    "AveragePool",
    "AvgPool2d"
);

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PoolKind {
    Max,
    Average,
}

pub struct Pool2d<B: Backend> {
    kind: PoolKind,
    geometry: PoolGeometry,
    input: Option<B::Tensor>,
}

impl<B: Backend> Pool2d<B> {
    pub fn new(kind: PoolKind, geometry: PoolGeometry) -> Self {
        Self {
            kind,
            geometry,
            input: None,
        }
    }
}

impl<B: Backend> Layer<B> for Pool2d<B> {
    fn forward(&mut self, b: &B, x: B::Tensor, _mode: Mode) -> B::Tensor {
        let y = match self.kind {
            PoolKind::Max => b.max_pool2d(&x, self.geometry),
            PoolKind::Average => b.avg_pool2d(&x, self.geometry),
        };
        self.input = Some(x);
        y
    }

    fn backward(&mut self, b: &B, dy: B::Tensor, _input_grad: bool) -> Option<B::Tensor> {
        let x = self.input.take().expect("pool backward before forward");
        Some(match self.kind {
            PoolKind::Max => b.max_pool2d_backward(&x, &dy, self.geometry),
            PoolKind::Average => b.avg_pool2d_backward(&dy, self.geometry, &B::shape(&x)),
        })
    }
}
