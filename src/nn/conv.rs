//! 2-D convolution layer over NCHW tensors.

use super::spec::{product, Inferred, Kind, Place};
use super::{init, Init, Layer, Mode, Param};
use crate::backend::{Backend, Conv2dGeometry};
use crate::catalogue::{self, integer, LayerKind};
use crate::onnx::{Attr, Graph};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conv2dSpec {
    pub filters: usize,
    pub kernel: usize,
    #[serde(default = "one")]
    pub stride: usize,
    #[serde(default)]
    pub padding: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<Init>,
}

fn one() -> usize {
    1
}

impl Conv2dSpec {
    fn geometry(&self) -> Conv2dGeometry {
        Conv2dGeometry {
            stride: self.stride,
            padding: self.padding,
        }
    }
}

/// `model.py`'s convolution: `torch.nn.Conv2d` (the same `[filters, channels, kh, kw]` weight),
/// initialised as Whetstone initialises it.
const TORCH: &str = r#"class Conv2d(nn.Conv2d):
    """A 2-D convolution over [n, channels, height, width]."""

    def __init__(self, channels, filters, kernel, stride, padding, init):
        super().__init__(channels, filters, kernel, stride=stride, padding=padding)
        initialise(self.weight, init, channels * kernel * kernel, filters * kernel * kernel)
        nn.init.zeros_(self.bias)


def build_conv2d(layer, shape, init):
    channels, h, w = shape
    k, s, p = layer["kernel"], layer["stride"], layer["padding"]
    out = [layer["filters"], (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1]
    return Conv2d(channels, layer["filters"], k, s, p, layer.get("init", init)), out


BUILDERS["conv2d"] = build_conv2d
"#;

impl Kind for Conv2dSpec {
    fn entry() -> LayerKind {
        catalogue::layer(
            "conv2d",
            "a 2-D convolution over [channels, height, width]",
            true,
            vec![
                integer("filters", "filters", 8, 1.0, "output channels"),
                integer("kernel", "kernel", 3, 1.0, "kernel side"),
                integer("stride", "stride", 1, 1.0, "step between windows"),
                integer("padding", "padding", 1, 0.0, "zeros added on each side"),
            ],
        )
    }

    fn sizes(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("filters", self.filters),
            ("kernel", self.kernel),
            ("stride", self.stride),
            ("padding", self.padding),
        ]
    }

    fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
        let &[channels, h, w] = input else {
            return Err(format!("needs a [channels, height, width] input but gets {input:?}"));
        };
        let Self {
            filters,
            kernel,
            stride,
            padding,
            ..
        } = *self;
        if filters == 0 || kernel == 0 || stride == 0 {
            return Err("filters, kernel and stride must be at least 1".into());
        }
        let g = self.geometry();
        let (Some(oh), Some(ow)) = (g.output_extent(h, kernel), g.output_extent(w, kernel)) else {
            return Err(format!(
                "a {kernel}x{kernel} kernel does not fit a {h}x{w} input with padding {padding}"
            ));
        };
        Ok(Inferred {
            output: vec![filters, oh, ow],
            params: product(&[filters, channels, kernel, kernel]) + filters as u64,
            flops: product(&[2, channels, kernel, kernel, filters, oh, ow]),
        })
    }

    fn params(&self, input: &[usize]) -> Vec<(String, Vec<usize>)> {
        vec![
            ("weight".into(), vec![self.filters, input[0], self.kernel, self.kernel]),
            ("bias".into(), vec![self.filters]),
        ]
    }

    fn init(&self) -> Option<Init> {
        self.init
    }

    const TORCH: &'static str = TORCH;

    fn build<B: Backend>(&self, b: &B, at: Place, rng: &mut Rng) -> Box<dyn Layer<B>> {
        Box::new(Conv2d::new(
            b,
            at.input[0],
            self.filters,
            self.kernel,
            self.geometry(),
            at.init,
            rng,
        ))
    }

    fn onnx(&self, graph: &mut Graph, name: &str, x: &str, _: &[usize]) -> String {
        let (k, s, p) = (self.kernel as i64, self.stride as i64, self.padding as i64);
        let attrs = vec![
            ("kernel_shape", Attr::Ints(vec![k, k])),
            ("strides", Attr::Ints(vec![s, s])),
            ("pads", Attr::Ints(vec![p; 4])),
        ];
        let (w, b) = (format!("{name}.weight"), format!("{name}.bias"));
        graph.op("Conv", name, &[x, &w, &b], attrs)
    }
}

pub struct Conv2d<B: Backend> {
    pub weight: Param<B>,
    pub bias: Param<B>,
    geometry: Conv2dGeometry,
    input: Option<B::Tensor>,
}

impl<B: Backend> Conv2d<B> {
    /// # Shapes
    /// weight `[filters, channels, kernel, kernel]`, bias `[filters]`;
    /// forward `[n, channels, h, w]` → `[n, filters, oh, ow]`.
    pub fn new(
        b: &B,
        channels: usize,
        filters: usize,
        kernel: usize,
        geometry: Conv2dGeometry,
        init: Init,
        rng: &mut Rng,
    ) -> Self {
        let fan_in = channels * kernel * kernel;
        let w = init::weights(init, filters * fan_in, fan_in, filters * kernel * kernel, rng);
        Self {
            weight: Param::weight(b.upload(&w, &[filters, channels, kernel, kernel])),
            bias: Param::bias(b.zeros(&[filters])),
            geometry,
            input: None,
        }
    }
}

impl<B: Backend> Layer<B> for Conv2d<B> {
    fn forward(&mut self, b: &B, x: B::Tensor, _mode: Mode) -> B::Tensor {
        let y = b.conv2d_bias(&x, &self.weight.value, &self.bias.value, self.geometry);
        self.input = Some(x);
        y
    }

    fn backward(&mut self, b: &B, dy: B::Tensor, input_grad: bool) -> Option<B::Tensor> {
        let x = self.input.take().expect("conv2d backward before forward");
        let (dw, dx) = b.conv2d_backward(&dy, &x, &self.weight.value, self.geometry, input_grad);
        self.weight.grad = Some(dw);
        self.bias.grad = Some(b.bias_grad(&dy));
        dx
    }

    fn params(&mut self) -> Vec<&mut Param<B>> {
        vec![&mut self.weight, &mut self.bias]
    }
}
