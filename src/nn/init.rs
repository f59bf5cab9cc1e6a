//! Weight initialisation.

use super::Init;
use crate::rng::Rng;

/// `n` weights for a layer with the given fan-in and fan-out.
pub fn weights(init: Init, n: usize, fan_in: usize, fan_out: usize, rng: &mut Rng) -> Vec<f32> {
    match init {
        Init::He => {
            let std = (2.0 / fan_in as f32).sqrt();
            (0..n).map(|_| rng.normal() * std).collect()
        }
        Init::Xavier => {
            let limit = (6.0 / (fan_in + fan_out) as f32).sqrt();
            (0..n).map(|_| (2.0 * rng.uniform() - 1.0) * limit).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn he_and_xavier_have_their_variance() {
        let mut rng = Rng::new(5);
        let n = 100_000;
        let var = |w: &[f32]| w.iter().map(|x| x * x).sum::<f32>() / w.len() as f32;
        // He: Var = 2 / fan_in. Xavier uniform on [−l, l]: Var = l²/3 = 2 / (fan_in + fan_out).
        assert!((var(&weights(Init::He, n, 50, 10, &mut rng)) - 0.04).abs() < 0.002);
        assert!((var(&weights(Init::Xavier, n, 50, 30, &mut rng)) - 0.025).abs() < 0.001);
    }
}
