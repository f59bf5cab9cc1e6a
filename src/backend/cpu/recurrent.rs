//! The recurrent cells' element-wise step maths (LSTM and GRU), forward and backward, on rows of
//! `units` values; the matrix products around them are ordinary `matmul`s.

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// `(h, c, gates)` of one LSTM step from the pre-activations `z = xw + hw` (`[n, 4H]`).
pub fn lstm_step(xw: &[f32], hw: &[f32], c_prev: &[f32], units: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut gates = vec![0.0; xw.len()];
    let (mut h, mut c) = (vec![0.0; c_prev.len()], vec![0.0; c_prev.len()]);
    for (row, ((g, z_x), z_h)) in gates
        .chunks_mut(4 * units)
        .zip(xw.chunks(4 * units))
        .zip(hw.chunks(4 * units))
        .enumerate()
    {
        for j in 0..units {
            let z = |k: usize| z_x[k * units + j] + z_h[k * units + j];
            let (i, o, f, cell) = (sigmoid(z(0)), sigmoid(z(1)), sigmoid(z(2)), z(3).tanh());
            let k = row * units + j;
            c[k] = f * c_prev[k] + i * cell;
            h[k] = o * c[k].tanh();
            [g[j], g[units + j], g[2 * units + j], g[3 * units + j]] = [i, o, f, cell];
        }
    }
    (h, c, gates)
}

/// `(dz, dc_prev)` of one LSTM step; `c` is recomputed from the gates and `c_prev`.
pub fn lstm_step_backward(dh: &[f32], dc: &[f32], gates: &[f32], c_prev: &[f32], units: usize) -> (Vec<f32>, Vec<f32>) {
    let mut dz = vec![0.0; gates.len()];
    let mut dc_prev = vec![0.0; c_prev.len()];
    for (row, (d, g)) in dz.chunks_mut(4 * units).zip(gates.chunks(4 * units)).enumerate() {
        for j in 0..units {
            let k = row * units + j;
            let (i, o, f, cell) = (g[j], g[units + j], g[2 * units + j], g[3 * units + j]);
            let tanh_c = (f * c_prev[k] + i * cell).tanh();
            let dc_total = dc[k] + dh[k] * o * (1.0 - tanh_c * tanh_c);
            d[j] = dc_total * cell * i * (1.0 - i);
            d[units + j] = dh[k] * tanh_c * o * (1.0 - o);
            d[2 * units + j] = dc_total * c_prev[k] * f * (1.0 - f);
            d[3 * units + j] = dc_total * i * (1.0 - cell * cell);
            dc_prev[k] = dc_total * f;
        }
    }
    (dz, dc_prev)
}

/// `(h, gates)` of one GRU step.
pub fn gru_step(xw: &[f32], hw: &[f32], h_prev: &[f32], units: usize) -> (Vec<f32>, Vec<f32>) {
    let mut gates = vec![0.0; xw.len()];
    let mut h = vec![0.0; h_prev.len()];
    for (row, ((g, x), r_h)) in gates
        .chunks_mut(3 * units)
        .zip(xw.chunks(3 * units))
        .zip(hw.chunks(3 * units))
        .enumerate()
    {
        for j in 0..units {
            let k = row * units + j;
            let z = sigmoid(x[j] + r_h[j]);
            let r = sigmoid(x[units + j] + r_h[units + j]);
            let n = (x[2 * units + j] + r * r_h[2 * units + j]).tanh();
            h[k] = (1.0 - z) * n + z * h_prev[k];
            [g[j], g[units + j], g[2 * units + j]] = [z, r, n];
        }
    }
    (h, gates)
}

/// `(dxw, dhw, dh_prev)` of one GRU step.
pub fn gru_step_backward(
    dh: &[f32],
    gates: &[f32],
    hw: &[f32],
    h_prev: &[f32],
    units: usize,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let (mut dxw, mut dhw) = (vec![0.0; gates.len()], vec![0.0; gates.len()]);
    let mut dh_prev = vec![0.0; h_prev.len()];
    for row in 0..h_prev.len() / units {
        let base = row * 3 * units;
        for j in 0..units {
            let k = row * units + j;
            let (z, r, n) = (gates[base + j], gates[base + units + j], gates[base + 2 * units + j]);
            let dn = dh[k] * (1.0 - z) * (1.0 - n * n);
            let dz = dh[k] * (h_prev[k] - n) * z * (1.0 - z);
            let dr = dn * hw[base + 2 * units + j] * r * (1.0 - r);
            [dxw[base + j], dxw[base + units + j], dxw[base + 2 * units + j]] = [dz, dr, dn];
            [dhw[base + j], dhw[base + units + j], dhw[base + 2 * units + j]] = [dz, dr, dn * r];
            dh_prev[k] = dh[k] * z;
        }
    }
    (dxw, dhw, dh_prev)
}
