// The image feature transform (src/features.rs `image_transform` is the CPU reference): one thread
// per output value of out [n, c_out, h, w] (FeatureParams: flags 1 greyscale, 2 edges);
// stats [2, c_out]: each output channel's mean, then its standard deviation.
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;

// The grey value of pixel (yy, xx) of the image starting at `base`, coordinates clamped to the image.
fn grey(base: u32, c: u32, h: u32, w: u32, yy: i32, xx: i32) -> f32 {
    let p = u32(clamp(yy, 0, i32(h) - 1)) * w + u32(clamp(xx, 0, i32(w) - 1));
    let plane = h * w;
    if (c == 3u) {
        return 0.299 * x[base + p] + 0.587 * x[base + plane + p] + 0.114 * x[base + 2u * plane + p];
    }
    var sum = 0.0;
    for (var k = 0u; k < c; k++) { sum += x[base + k * plane + p]; }
    return sum / f32(c);
}

@compute @workgroup_size(256)
fn image_features(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let t = flat_index(wg, groups, l);
    let fp = feature_params();
    let n = fp.n; let c = fp.c; let h = fp.h; let w = fp.w;
    let grayscale = (fp.flags & 1u) != 0u;
    let edges = (fp.flags & 2u) != 0u;
    let c_out = fp.channels;
    let plane = h * w;
    if (t >= n * c_out * plane) { return; }
    let sample = t / (c_out * plane);
    let k = (t / plane) % c_out;
    let p = t % plane;
    let yy = i32(p / w);
    let xx = i32(p % w);
    let base = sample * c * plane;
    var v: f32;
    if (edges && k == c_out - 1u) {
        let gx = grey(base, c, h, w, yy - 1, xx + 1) + 2.0 * grey(base, c, h, w, yy, xx + 1) + grey(base, c, h, w, yy + 1, xx + 1)
            - grey(base, c, h, w, yy - 1, xx - 1) - 2.0 * grey(base, c, h, w, yy, xx - 1) - grey(base, c, h, w, yy + 1, xx - 1);
        let gy = grey(base, c, h, w, yy + 1, xx - 1) + 2.0 * grey(base, c, h, w, yy + 1, xx) + grey(base, c, h, w, yy + 1, xx + 1)
            - grey(base, c, h, w, yy - 1, xx - 1) - 2.0 * grey(base, c, h, w, yy - 1, xx) - grey(base, c, h, w, yy - 1, xx + 1);
        v = sqrt(gx * gx + gy * gy) / 4.0;
    } else if (grayscale) {
        v = grey(base, c, h, w, yy, xx);
    } else {
        v = x[base + k * plane + p];
    }
    out[t] = (v - stats[k]) / stats[c_out + k];
}
