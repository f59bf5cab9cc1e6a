// Image augmentation (see src/augment.rs, whose `apply` is the CPU reference): one thread per
// output pixel of x [n, c, h, w] (ImageParams); q = the sample's row of AUGMENT_PARAMS.
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> q: array<f32>;

const P: u32 = 16u;

fn bilinear(base: u32, h: u32, w: u32, px: f32, py: f32) -> f32 {
    let x0 = floor(px);
    let y0 = floor(py);
    let fx = px - x0;
    let fy = py - y0;
    var corners = array<f32, 4>(0.0, 0.0, 0.0, 0.0);
    for (var k = 0u; k < 4u; k++) {
        let cx = x0 + f32(k & 1u);
        let cy = y0 + f32(k >> 1u);
        if (cx >= 0.0 && cy >= 0.0 && cx < f32(w) && cy < f32(h)) { corners[k] = x[base + u32(cy) * w + u32(cx)]; }
    }
    return (corners[0] * (1.0 - fx) + corners[1] * fx) * (1.0 - fy) + (corners[2] * (1.0 - fx) + corners[3] * fx) * fy;
}

fn tone(v: f32, s: u32) -> f32 {
    return clamp((v + q[s + 6u] - 0.5) * q[s + 7u] + 0.5, 0.0, 1.0);
}

fn chroma(rgb: vec3<f32>, s: u32) -> vec3<f32> {
    let grey = 0.299 * rgb.x + 0.587 * rgb.y + 0.114 * rgb.z;
    let c = vec3<f32>(grey) + (rgb - vec3<f32>(grey)) * q[s + 8u];
    let sn = sin(q[s + 9u]);
    let cs = cos(q[s + 9u]);
    let same = cs + (1.0 - cs) / 3.0;
    let plus = (1.0 - cs) / 3.0 + sn / sqrt(3.0);
    let minus = (1.0 - cs) / 3.0 - sn / sqrt(3.0);
    return clamp(vec3<f32>(
        same * c.x + minus * c.y + plus * c.z,
        plus * c.x + same * c.y + minus * c.z,
        minus * c.x + plus * c.y + same * c.z), vec3<f32>(0.0), vec3<f32>(1.0));
}

fn normal(seed: u32, i: u32) -> f32 {
    let u1 = counter_uniform(seed, 2u * i);
    let u2 = counter_uniform(seed, 2u * i + 1u);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
}

@compute @workgroup_size(256)
fn augment(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let t = flat_index(wg, groups, l);
    let ip = image_params();
    let n = ip.n; let c = ip.c; let h = ip.h; let w = ip.w;
    let plane = h * w;
    if (t >= n * plane) { return; }
    let sample = t / plane;
    let px = t % plane;
    let xx = px % w;
    let yy = px / w;
    let s = sample * P;
    let hw = f32(w) / 2.0;
    let hh = f32(h) / 2.0;
    let ox = f32(xx) + 0.5 - hw;
    let oy = f32(yy) + 0.5 - hh;
    let ix = q[s] * ox + q[s + 1u] * oy + q[s + 4u] + hw - 0.5;
    let iy = q[s + 2u] * ox + q[s + 3u] * oy + q[s + 5u] + hh - 0.5;
    let fx = f32(xx) + 0.5;
    let fy = f32(yy) + 0.5;
    let cut = fx >= q[s + 11u] && fx < q[s + 13u] && fy >= q[s + 12u] && fy < q[s + 14u];
    let image = sample * c * plane;
    if (c == 3u) {
        let rgb = chroma(vec3<f32>(
            tone(bilinear(image, h, w, ix, iy), s),
            tone(bilinear(image + plane, h, w, ix, iy), s),
            tone(bilinear(image + 2u * plane, h, w, ix, iy), s)), s);
        for (var ch = 0u; ch < 3u; ch++) {
            let k = image + ch * plane + px;
            out[k] = select(clamp(rgb[ch] + q[s + 10u] * normal(ip.seed, k), 0.0, 1.0), 0.0, cut);
        }
    } else {
        for (var ch = 0u; ch < c; ch++) {
            let k = image + ch * plane + px;
            let v = tone(bilinear(image + ch * plane, h, w, ix, iy), s);
            out[k] = select(clamp(v + q[s + 10u] * normal(ip.seed, k), 0.0, 1.0), 0.0, cut);
        }
    }
}
