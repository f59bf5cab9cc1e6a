// Shared by conv_registers.wgsl and conv_weight_registers.wgsl, which bind the image x as `a`.
// Both read ConvParams.

// Four input pixels (image base + row and column offsets, clamped) of an h×w plane, zero outside.
fn pixel(base: vec4<u32>, iy: vec4<i32>, ix: vec4<i32>, h: i32, w: i32) -> vec4<f32> {
    let inside = (iy >= vec4<i32>(0)) & (iy < vec4<i32>(h)) & (ix >= vec4<i32>(0)) & (ix < vec4<i32>(w));
    let idx = base + vec4<u32>(clamp(iy, vec4<i32>(0), vec4<i32>(h - 1)) * w + clamp(ix, vec4<i32>(0), vec4<i32>(w - 1)));
    let v = vec4<f32>(a[idx.x], a[idx.y], a[idx.z], a[idx.w]);
    return select(vec4<f32>(0.0), v, inside);
}
