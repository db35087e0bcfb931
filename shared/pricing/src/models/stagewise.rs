//! Forward stagewise regression (incremental, epsilon-stagewise): start from zero
//! weights; at each step find the feature most correlated with the residual and move its
//! weight by a small `step` towards it; stop when no feature is correlated by more than
//! `tolerance` or after `max_steps`. Its path is close to the lasso's, which is why it
//! is one of the wide-data candidates.
//!
//! The features and target are centred on the fitted rows, so the intercept is the
//! target's mean less the weighted feature means. Each step updates the correlations
//! through the Gram matrix (`c -= step * G[:, j]`) instead of touching the rows, so a
//! step costs O(features), not O(rows × features).

use linfa::prelude::*;
use linfa::DatasetBase;
use ndarray::{Array1, Array2, ArrayBase, ArrayView1, ArrayView2, Axis, Data, Ix2};
use serde::{Deserialize, Serialize};

use super::{LinearModel, ModelError};

/// Stagewise hyperparameters, for standardised features.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StagewiseParams {
    pub step: f64,
    pub max_steps: usize,
    /// Stop once every feature's mean correlation with the residual is at most this.
    pub tolerance: f64,
}

impl Default for StagewiseParams {
    fn default() -> Self {
        StagewiseParams { step: 0.005, max_steps: 20_000, tolerance: 1e-4 }
    }
}

impl StagewiseParams {
    /// Fits on a view of the rows.
    pub fn fit_view(&self, features: ArrayView2<'_, f64>, targets: ArrayView1<'_, f64>) -> LinearModel {
        let rows = features.nrows().max(1) as f64;
        let feature_means = features.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(features.ncols()));
        let target_mean = targets.mean().unwrap_or(0.0);
        let centred = &features - &feature_means;
        let gram: Array2<f64> = centred.t().dot(&centred) / rows;
        let mut correlation: Array1<f64> = centred.t().dot(&targets.mapv(|target| target - target_mean)) / rows;
        let mut weights = Array1::<f64>::zeros(features.ncols());
        for _ in 0..self.max_steps {
            let Some((best, value)) =
                correlation.iter().copied().enumerate().max_by(|(_, left), (_, right)| left.abs().total_cmp(&right.abs()))
            else {
                break;
            };
            if value.abs() <= self.tolerance || gram[[best, best]] <= 0.0 {
                break;
            }
            let delta = self.step * value.signum();
            weights[best] += delta;
            correlation.scaled_add(-delta, &gram.column(best));
        }
        let intercept = target_mean - weights.dot(&feature_means);
        LinearModel { weights: weights.to_vec(), intercept }
    }
}

impl<D: Data<Elem = f64>> Fit<ArrayBase<D, Ix2>, Array1<f64>, ModelError> for StagewiseParams {
    type Object = LinearModel;

    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, Array1<f64>>) -> Result<LinearModel, ModelError> {
        if dataset.records().nrows() == 0 {
            return Err(ModelError::Empty);
        }
        Ok(self.fit_view(dataset.records().view(), dataset.targets().view()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stagewise_approaches_least_squares_on_a_clean_line_and_ignores_noise_features() {
        let x = Array2::from_shape_fn((300, 4), |(row, column)| ((row * (column + 2) * 104_729) % 97) as f64 / 48.0 - 1.0);
        let y: Array1<f64> = x.rows().into_iter().map(|row| 1.0 + 0.8 * row[0] - 0.4 * row[2]).collect();
        let model = StagewiseParams::default().fit(&DatasetBase::new(x.clone(), y.clone())).unwrap();
        assert!((model.weights[0] - 0.8).abs() < 0.02, "{model:?}");
        assert!((model.weights[2] + 0.4).abs() < 0.02, "{model:?}");
        let predicted = model.predict(&x);
        let rmse = ((&predicted - &y).mapv(|error| error * error).mean().unwrap()).sqrt();
        assert!(rmse < 0.02, "rmse {rmse}");
    }
}
