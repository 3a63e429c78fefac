//! casbin's `Adapter` over our own sqlx pool, for SQLite and PostgreSQL alike. casbin's
//! `sqlx-adapter` does not fit: it picks one database at compile time and its query macros need
//! `DATABASE_URL` when building.

use async_trait::async_trait;
use casbin::error::AdapterError;
use casbin::{Adapter, Filter, Model};
use sqlx::Row;

use super::{map_err, SqlStore};

const COLUMNS: usize = 6;

fn adapter_error(e: impl std::error::Error + Send + Sync + 'static) -> casbin::Error {
    casbin::Error::AdapterError(AdapterError(Box::new(e)))
}

/// A rule padded to the six value columns. casbin rules longer than that are refused.
fn padded(rule: &[String]) -> casbin::Result<[String; COLUMNS]> {
    if rule.len() > COLUMNS {
        return Err(adapter_error(std::io::Error::other(
            "casbin rules have at most six values",
        )));
    }
    let mut values: [String; COLUMNS] = Default::default();
    for (slot, value) in values.iter_mut().zip(rule) {
        slot.clone_from(value);
    }
    Ok(values)
}

/// The casbin adapter of a [`SqlStore`].
#[derive(Debug, Clone)]
pub struct SqlCasbinAdapter {
    store: SqlStore,
    filtered: bool,
}

impl SqlCasbinAdapter {
    /// An adapter over `store`'s `casbin_rules` table.
    #[must_use]
    pub fn new(store: SqlStore) -> Self {
        Self {
            store,
            filtered: false,
        }
    }

    async fn rules(&self) -> casbin::Result<Vec<(String, Vec<String>)>> {
        let rows = sqlx::query("SELECT ptype, v0, v1, v2, v3, v4, v5 FROM casbin_rules")
            .fetch_all(self.store.pool())
            .await
            .map_err(|e| adapter_error(map_err(e)))?;
        rows.iter()
            .map(|row| {
                let ptype: String = row
                    .try_get("ptype")
                    .map_err(|e| adapter_error(map_err(e)))?;
                let mut values = Vec::with_capacity(COLUMNS);
                for i in 0..COLUMNS {
                    values.push(
                        row.try_get::<String, _>(format!("v{i}").as_str())
                            .map_err(|e| adapter_error(map_err(e)))?,
                    );
                }
                // Trailing empty values are padding, not part of the rule.
                while values.last().is_some_and(String::is_empty) {
                    values.pop();
                }
                Ok((ptype, values))
            })
            .collect()
    }

    /// Runs `sql` (binding `ptype` and the six padded values) once per rule in one
    /// transaction; returns whether any row changed.
    async fn each_rule(
        &self,
        sql: &str,
        ptype: &str,
        rules: &[Vec<String>],
    ) -> casbin::Result<bool> {
        let mut tx = self
            .store
            .writes()
            .begin()
            .await
            .map_err(|e| adapter_error(map_err(e)))?;
        let mut changed = false;
        for rule in rules {
            let mut query = sqlx::query(sql).bind(ptype);
            for value in padded(rule)? {
                query = query.bind(value);
            }
            let result = query
                .execute(&mut *tx)
                .await
                .map_err(|e| adapter_error(map_err(e)))?;
            changed |= result.rows_affected() > 0;
        }
        tx.commit().await.map_err(|e| adapter_error(map_err(e)))?;
        Ok(changed)
    }

    async fn insert(&self, ptype: &str, rules: &[Vec<String>]) -> casbin::Result<bool> {
        self.each_rule(
            "INSERT INTO casbin_rules (ptype, v0, v1, v2, v3, v4, v5) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (ptype, v0, v1, v2, v3, v4, v5) DO NOTHING",
            ptype,
            rules,
        )
        .await
    }

    async fn delete(&self, ptype: &str, rules: &[Vec<String>]) -> casbin::Result<bool> {
        self.each_rule(
            "DELETE FROM casbin_rules WHERE ptype = $1 AND v0 = $2 AND v1 = $3 AND v2 = $4 \
             AND v3 = $5 AND v4 = $6 AND v5 = $7",
            ptype,
            rules,
        )
        .await
    }
}

fn load_into(m: &mut dyn Model, ptype: &str, rule: Vec<String>) {
    let sec = ptype.get(..1).unwrap_or_default();
    if let Some(assertion) = m
        .get_mut_model()
        .get_mut(sec)
        .and_then(|a| a.get_mut(ptype))
    {
        assertion.get_mut_policy().insert(rule);
    }
}

#[async_trait]
impl Adapter for SqlCasbinAdapter {
    async fn load_policy(&mut self, m: &mut dyn Model) -> casbin::Result<()> {
        self.filtered = false;
        for (ptype, rule) in self.rules().await? {
            load_into(m, &ptype, rule);
        }
        Ok(())
    }

    async fn load_filtered_policy<'a>(
        &mut self,
        m: &mut dyn Model,
        f: Filter<'a>,
    ) -> casbin::Result<()> {
        for (ptype, rule) in self.rules().await? {
            let filter = if ptype.starts_with('p') { &f.p } else { &f.g };
            let keep = filter
                .iter()
                .enumerate()
                .all(|(i, want)| want.is_empty() || rule.get(i).is_some_and(|v| v == want));
            if keep {
                load_into(m, &ptype, rule);
            } else {
                self.filtered = true;
            }
        }
        Ok(())
    }

    async fn save_policy(&mut self, m: &mut dyn Model) -> casbin::Result<()> {
        self.clear_policy().await?;
        for sec in ["p", "g"] {
            let Some(assertions) = m.get_model().get(sec) else {
                continue;
            };
            for (ptype, assertion) in assertions {
                let rules: Vec<Vec<String>> = assertion.get_policy().iter().cloned().collect();
                self.insert(ptype, &rules).await?;
            }
        }
        Ok(())
    }

    async fn clear_policy(&mut self) -> casbin::Result<()> {
        sqlx::query("DELETE FROM casbin_rules")
            .execute(self.store.writes())
            .await
            .map_err(|e| adapter_error(map_err(e)))?;
        Ok(())
    }

    fn is_filtered(&self) -> bool {
        self.filtered
    }

    async fn add_policy(
        &mut self,
        _sec: &str,
        ptype: &str,
        rule: Vec<String>,
    ) -> casbin::Result<bool> {
        self.insert(ptype, &[rule]).await
    }

    async fn add_policies(
        &mut self,
        _sec: &str,
        ptype: &str,
        rules: Vec<Vec<String>>,
    ) -> casbin::Result<bool> {
        self.insert(ptype, &rules).await
    }

    async fn remove_policy(
        &mut self,
        _sec: &str,
        ptype: &str,
        rule: Vec<String>,
    ) -> casbin::Result<bool> {
        self.delete(ptype, &[rule]).await
    }

    async fn remove_policies(
        &mut self,
        _sec: &str,
        ptype: &str,
        rules: Vec<Vec<String>>,
    ) -> casbin::Result<bool> {
        self.delete(ptype, &rules).await
    }

    async fn remove_filtered_policy(
        &mut self,
        _sec: &str,
        ptype: &str,
        field_index: usize,
        field_values: Vec<String>,
    ) -> casbin::Result<bool> {
        let matching: Vec<Vec<String>> = self
            .rules()
            .await?
            .into_iter()
            .filter(|(p, rule)| {
                p == ptype
                    && field_values.iter().enumerate().all(|(i, want)| {
                        want.is_empty() || rule.get(field_index + i).is_some_and(|v| v == want)
                    })
            })
            .map(|(_, rule)| rule)
            .collect();
        self.delete(ptype, &matching).await
    }
}
