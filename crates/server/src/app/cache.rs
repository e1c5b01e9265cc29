//! The one owner of what a node keeps in memory of the database: loaded models, which
//! users are enrolled, and the settings in force. Every change goes through here, is
//! written to the store first, and is announced to the other nodes; what they announce
//! comes back here (see [`crate::app::notifications`]).
//!
//! A load that races an invalidation must not put back what was invalidated: every
//! invalidation bumps a generation, and a load stores its result only if the generation
//! it started under is still current.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use pointerprint_model::UserModel;
use pointerprint_storage::Store;

use crate::app::error::AppError;
use crate::app::notifications::{Channel, announce};
use crate::domain::ids::UserId;
use crate::domain::settings::Settings;

pub struct Cache {
    store: Store,
    /// Bumped by every invalidation of a model or an enrolment.
    users_generation: AtomicU64,
    models: RwLock<HashMap<UserId, Arc<UserModel>>>,
    /// Users with nothing left to do for automatic training (they have a model), so ingest
    /// asks the database about them no more; dropped with their model.
    enrolled: Mutex<HashSet<UserId>>,
    /// Bumped by every change of the settings in force.
    settings_generation: AtomicU64,
    settings: RwLock<Arc<Settings>>,
    /// Serialises this node's settings changes (read, modify, store, put in force) without
    /// holding up readers of the settings while the database answers.
    settings_writer: tokio::sync::Mutex<()>,
}

/// Locks ignore poisoning: every critical section here leaves the maps consistent.
fn unpoison<G>(result: Result<G, PoisonError<G>>) -> G {
    result.unwrap_or_else(PoisonError::into_inner)
}

impl Cache {
    pub fn new(store: Store, settings: Settings) -> Self {
        Self {
            store,
            users_generation: AtomicU64::new(0),
            models: RwLock::default(),
            enrolled: Mutex::default(),
            settings_generation: AtomicU64::new(0),
            settings: RwLock::new(Arc::new(settings)),
            settings_writer: tokio::sync::Mutex::new(()),
        }
    }

    /// The user's model, loaded from the database on first use.
    pub async fn model(&self, user_id: &UserId) -> Result<Option<Arc<UserModel>>, AppError> {
        if let Some(m) = unpoison(self.models.read()).get(user_id) {
            return Ok(Some(m.clone()));
        }
        let generation = self.users_generation.load(Ordering::Acquire);
        let Some(stored) = self.store.model(user_id.as_str()).await? else {
            return Ok(None);
        };
        let model = Arc::new(UserModel::from_bytes(&stored.bytes).map_err(AppError::internal)?);
        self.remember(user_id, model.clone(), generation);
        Ok(Some(model))
    }

    /// Caches a model loaded under `generation`, unless an invalidation came since.
    fn remember(&self, user_id: &UserId, model: Arc<UserModel>, generation: u64) {
        let mut models = unpoison(self.models.write());
        if self.users_generation.load(Ordering::Acquire) == generation {
            models.insert(user_id.clone(), model);
        }
    }

    /// Whether the user is known here to have a model (so ingest need not ask).
    pub fn is_enrolled(&self, user_id: &UserId) -> bool {
        unpoison(self.enrolled.lock()).contains(user_id)
    }

    /// The generation to pass to [`Cache::mark_enrolled`]: taken before asking the store.
    pub fn generation(&self) -> u64 {
        self.users_generation.load(Ordering::Acquire)
    }

    /// Remembers that the user has a model, as the store said under `generation`.
    pub fn mark_enrolled(&self, user_id: &UserId, generation: u64) {
        let mut enrolled = unpoison(self.enrolled.lock());
        if self.users_generation.load(Ordering::Acquire) == generation {
            enrolled.insert(user_id.clone());
        }
    }

    /// The user's model changed (retrained) or is gone (erased, reset): this node and every
    /// other drop what they hold of the user.
    pub async fn user_changed(&self, user_id: &UserId) {
        self.forget_user(user_id);
        announce(&self.store, Channel::Models, user_id.as_str()).await;
    }

    /// Drops this node's cached model and enrolment state of a user.
    pub fn forget_user(&self, user_id: &UserId) {
        self.users_generation.fetch_add(1, Ordering::AcqRel);
        unpoison(self.models.write()).remove(user_id);
        unpoison(self.enrolled.lock()).remove(user_id);
    }

    /// Drops everything cached of every user (after notifications were missed).
    pub fn forget_all_users(&self) {
        self.users_generation.fetch_add(1, Ordering::AcqRel);
        unpoison(self.models.write()).clear();
        unpoison(self.enrolled.lock()).clear();
    }

    /// The settings in force.
    pub fn settings(&self) -> Arc<Settings> {
        unpoison(self.settings.read()).clone()
    }

    /// Validates, stores and puts in force new settings, here and on every other node.
    pub async fn replace_settings(&self, settings: Settings) -> Result<(), AppError> {
        self.update_settings(|current| {
            *current = settings;
            true
        })
        .await
    }

    /// Changes the stored settings with `change` (which says whether it changed anything),
    /// then validates, stores and puts them in force here and on every other node. The
    /// change applies to the database's current settings, not to this node's copy, so
    /// changes made at once on two nodes do not undo each other.
    pub async fn update_settings(
        &self,
        change: impl FnOnce(&mut Settings) -> bool,
    ) -> Result<(), AppError> {
        let _writer = self.settings_writer.lock().await;
        let mut settings = self.stored_settings().await?;
        if !change(&mut settings) {
            return Ok(());
        }
        settings
            .validate()
            .map_err(|m| AppError::invalid("invalid_settings", m))?;
        let json = serde_json::to_string(&settings).map_err(AppError::internal)?;
        self.store.put_settings(&json).await?;
        self.put_in_force(settings);
        announce(&self.store, Channel::Settings, "").await;
        Ok(())
    }

    /// Reloads the settings from the database (another node changed them). A change made
    /// on this node while the database answered wins over what this load read.
    pub async fn reload_settings(&self) {
        let generation = self.settings_generation.load(Ordering::Acquire);
        match self.stored_settings().await {
            Ok(settings) => self.adopt(settings, generation),
            Err(e) => tracing::warn!(error = %e.message, "cannot reload the settings"),
        }
    }

    /// Puts settings read under `generation` in force, unless a change came since.
    fn adopt(&self, settings: Settings, generation: u64) {
        let mut current = unpoison(self.settings.write());
        if self.settings_generation.load(Ordering::Acquire) == generation {
            *current = Arc::new(settings);
        }
    }

    async fn stored_settings(&self) -> Result<Settings, AppError> {
        match self.store.settings().await? {
            Some(json) => serde_json::from_str(&json).map_err(AppError::internal),
            None => Ok(Settings::default()),
        }
    }

    fn put_in_force(&self, settings: Settings) {
        let mut current = unpoison(self.settings.write());
        self.settings_generation.fetch_add(1, Ordering::AcqRel);
        *current = Arc::new(settings);
    }
}

#[cfg(test)]
mod tests {
    use pointerprint_model::{Learner, TrainConfig};
    use pointerprint_storage::Cipher;
    use pointerprint_synth::{population, session};

    use super::*;

    async fn cache(dir: &tempfile::TempDir) -> Cache {
        let store = Store::open_sqlite(&dir.path().join("db"), Cipher::new([1; 32]))
            .await
            .unwrap();
        Cache::new(store, Settings::default())
    }

    fn one_class_model() -> Arc<UserModel> {
        let style = &population(1, 3)[0];
        let actions = pointerprint_core::extract(&session(style, 1, 80));
        let config = TrainConfig {
            learner: Learner::OneClass,
            ..TrainConfig::default()
        };
        Arc::new(UserModel::train(&[&actions], &[], &config).unwrap())
    }

    #[tokio::test]
    async fn a_load_that_raced_an_invalidation_is_not_cached() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(&dir).await;
        let user = UserId::parse("alice").unwrap();
        let model = one_class_model();
        // Loaded before the retraining was announced, arriving after it.
        let generation = cache.generation();
        cache.forget_user(&user);
        cache.remember(&user, model.clone(), generation);
        assert!(unpoison(cache.models.read()).get(&user).is_none());
        // A load that nothing raced is kept.
        cache.remember(&user, model, cache.generation());
        assert!(unpoison(cache.models.read()).get(&user).is_some());
        // Enrolment state likewise.
        let generation = cache.generation();
        cache.forget_user(&user);
        cache.mark_enrolled(&user, generation);
        assert!(!cache.is_enrolled(&user));
    }

    #[tokio::test]
    async fn a_settings_reload_does_not_undo_a_newer_change() {
        let dir = tempfile::tempdir().unwrap();
        let cache = cache(&dir).await;
        let generation = cache.settings_generation.load(Ordering::Acquire);
        let stale = Settings::default();
        cache
            .update_settings(|s| {
                s.min_actions = 9;
                true
            })
            .await
            .unwrap();
        cache.adopt(stale, generation);
        assert_eq!(cache.settings().min_actions, 9);
        // And the database holds the change, so another node's reload sees it.
        cache.reload_settings().await;
        assert_eq!(cache.settings().min_actions, 9);
    }
}
