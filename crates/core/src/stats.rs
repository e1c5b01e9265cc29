//! Single-pass summary statistics, so feature extraction never stores or sorts a series.

/// Count, mean, standard deviation, minimum and maximum of a stream, in one pass (Welford).
#[derive(Debug, Clone, Copy)]
pub struct Running {
    n: u32,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
}

impl Default for Running {
    fn default() -> Self {
        Self {
            n: 0,
            mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

impl Running {
    /// Adds a value; non-finite values are ignored so one bad sample cannot poison a feature.
    #[inline]
    pub fn push(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / f64::from(self.n);
        self.m2 += delta * (x - self.mean);
        // Plain comparisons, as `x` is never NaN (`f64::min` and `max` spend much of a push on
        // handling NaN), written as selects: new extremes come often in short streams, and
        // branches on them would be mispredicted. Of a 0 and a -0, the first stays.
        self.min = if x < self.min { x } else { self.min };
        self.max = if x > self.max { x } else { self.max };
    }

    pub fn count(&self) -> u32 {
        self.n
    }

    /// The mean, or 0 for an empty stream (a feature must always be a number).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The population standard deviation, 0 for fewer than two values.
    pub fn sd(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.m2 / f64::from(self.n)).sqrt()
        }
    }

    pub fn min(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.min }
    }

    pub fn max(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.max }
    }

    /// `[mean, sd, max, min]`, the order in which the features list them.
    pub fn summary(&self) -> [f64; 4] {
        [self.mean(), self.sd(), self.max(), self.min()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_two_pass_formulas() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let mut r = Running::default();
        xs.iter().for_each(|&x| r.push(x));
        assert_eq!(r.count(), 8);
        assert!((r.mean() - 5.0).abs() < 1e-12);
        assert!((r.sd() - 2.0).abs() < 1e-12);
        assert_eq!(r.min(), 2.0);
        assert_eq!(r.max(), 9.0);
    }

    #[test]
    fn of_equal_extremes_the_first_stays() {
        let mut r = Running::default();
        [0.0, -0.0, 0.0].iter().for_each(|&x| r.push(x));
        assert_eq!(r.min().to_bits(), 0.0f64.to_bits());
        assert_eq!(r.max().to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn empty_and_non_finite_give_zeros() {
        let mut r = Running::default();
        r.push(f64::NAN);
        r.push(f64::INFINITY);
        assert_eq!(r.summary(), [0.0; 4]);
    }
}
