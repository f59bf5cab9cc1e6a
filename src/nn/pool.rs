//! Max and average pooling layers.

use super::spec::{product, Inferred, Kind, Place};
use super::{Layer, Mode};
use crate::backend::{Backend, PoolGeometry};
use crate::catalogue::{self, integer, Field, LayerKind};
use crate::onnx::{Attr, Graph};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

/// Max pooling's settings: a square window and its stride (the window's side when not set).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaxPool2dSpec {
    pub size: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stride: Option<usize>,
}

/// Average pooling's settings, as max pooling's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AvgPool2dSpec {
    pub size: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stride: Option<usize>,
}

fn size_field() -> Field {
    integer("size", "size", 2, 1.0, "window side (the stride defaults to it)")
}

fn geometry(size: usize, stride: Option<usize>) -> PoolGeometry {
    PoolGeometry {
        size,
        stride: stride.unwrap_or(size),
    }
}

fn sizes(g: PoolGeometry) -> Vec<(&'static str, usize)> {
    vec![("size", g.size), ("stride", g.stride)]
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

impl Kind for MaxPool2dSpec {
    const TORCH: &'static str = r#"def build_max_pool2d(layer, shape, init):
    size = layer["size"]
    stride = layer.get("stride") or size
    channels, h, w = shape
    return nn.MaxPool2d(size, stride), [channels, (h - size) // stride + 1, (w - size) // stride + 1]


BUILDERS["max_pool2d"] = build_max_pool2d
"#;

    fn entry() -> LayerKind {
        catalogue::layer(
            "max_pool2d",
            "the largest value of each window",
            false,
            vec![size_field()],
        )
    }

    fn sizes(&self) -> Vec<(&'static str, usize)> {
        sizes(geometry(self.size, self.stride))
    }

    fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
        infer(geometry(self.size, self.stride), input)
    }

    fn build<B: Backend>(&self, _: &B, _: Place, _: &mut Rng) -> Box<dyn Layer<B>> {
        Box::new(Pool2d::new(PoolKind::Max, geometry(self.size, self.stride)))
    }

    fn onnx(&self, graph: &mut Graph, name: &str, x: &str) -> String {
        onnx("MaxPool", geometry(self.size, self.stride), graph, name, x)
    }
}

impl Kind for AvgPool2dSpec {
    const TORCH: &'static str = r#"def build_avg_pool2d(layer, shape, init):
    size = layer["size"]
    stride = layer.get("stride") or size
    channels, h, w = shape
    return nn.AvgPool2d(size, stride), [channels, (h - size) // stride + 1, (w - size) // stride + 1]


BUILDERS["avg_pool2d"] = build_avg_pool2d
"#;

    fn entry() -> LayerKind {
        catalogue::layer("avg_pool2d", "the mean of each window", false, vec![size_field()])
    }

    fn sizes(&self) -> Vec<(&'static str, usize)> {
        sizes(geometry(self.size, self.stride))
    }

    fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
        infer(geometry(self.size, self.stride), input)
    }

    fn build<B: Backend>(&self, _: &B, _: Place, _: &mut Rng) -> Box<dyn Layer<B>> {
        Box::new(Pool2d::new(PoolKind::Average, geometry(self.size, self.stride)))
    }

    fn onnx(&self, graph: &mut Graph, name: &str, x: &str) -> String {
        onnx("AveragePool", geometry(self.size, self.stride), graph, name, x)
    }
}

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
