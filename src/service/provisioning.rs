//! VPN provisioning (DESIGN §6): tariffs, VPN groups, members, prepaid accounts.
//!
//! Two layers:
//! - [`ProvisioningData`] is the file form (TOML through serde), exactly what is persisted.
//! - [`Provisioning`] is a validated, indexed, immutable snapshot built from it. A call holds an
//!   `Arc<Provisioning>` for its whole life, so it sees one consistent view however the data
//!   change meanwhile.
//!
//! Run-time changes (admin API) go through [`ProvisioningStore`]: the change is applied to a copy
//! of the data, validated and indexed (O(members)), persisted if the store has a file, and only
//! then swapped in atomically. A rejected change leaves the current snapshot untouched.
//!
//! Member ranges (`[[group.member_range]]`) generate many members (and their prepaid accounts)
//! with consecutive numbers, for load tests and demos; they are stored as ranges, not expanded,
//! when written back. An explicit member with the same public number as a generated one
//! overrides it (that is how one subscriber of a range is changed at run time).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

use super::pin;
use super::rating::Tariff;
use crate::prepaid::{AccountId, Money};

/// The provisioning file's content.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisioningData {
    /// Tariffs (`[[tariff]]`).
    #[serde(rename = "tariff", default)]
    pub tariffs: Vec<Tariff>,
    /// Prepaid accounts (`[[account]]`) with their initial state.
    #[serde(rename = "account", default)]
    pub accounts: Vec<Account>,
    /// VPN groups (`[[group]]`) with their members (`[[group.member]]`) and member ranges.
    #[serde(rename = "group", default)]
    pub groups: Vec<Group>,
}

/// A VPN group (an enterprise's private network).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Unique id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// CAP/INAP service keys that trigger this group's service.
    pub service_keys: Vec<u32>,
    /// Length of the private extensions, digits (1–8).
    pub extension_length: usize,
    /// Home country code, for numbers dialled in national format (e.g. `"44"`).
    pub country_code: String,
    /// National (trunk) prefix, e.g. `"0"` (`"1"` in NANP).
    #[serde(default = "default_national_prefix")]
    pub national_prefix: String,
    /// International prefix, e.g. `"00"` (`"011"` in NANP).
    #[serde(default = "default_international_prefix")]
    pub international_prefix: String,
    /// Off-net access prefix ("dial 9 for an outside line"), if the group uses one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offnet_prefix: Option<String>,
    /// Tariff for calls between members.
    pub on_net_tariff: String,
    /// Tariff for calls leaving the group.
    pub off_net_tariff: String,
    /// Members.
    #[serde(rename = "member", default)]
    pub members: Vec<Member>,
    /// Generated members.
    #[serde(
        rename = "member_range",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub member_ranges: Vec<MemberRange>,
}

fn default_national_prefix() -> String {
    "0".into()
}
fn default_international_prefix() -> String {
    "00".into()
}
fn default_true() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}

/// What a member may call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassOfService {
    /// Other members of the group only.
    OnNetOnly,
    /// On-net and destinations in the group's country.
    National,
    /// Anything not blocked.
    #[default]
    International,
}

/// When the member is asked for a PIN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PinPolicy {
    /// Never.
    #[default]
    Never,
    /// On every call.
    Always,
    /// On calls leaving the group.
    OffNet,
}

/// How a member's calls are charged (claim 1 A/B).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Charging {
    /// Traditional VPN service, billed afterwards from CDRs.
    #[default]
    Postpaid,
    /// VPN with prepaid: fees are reserved and deducted on this account.
    Prepaid {
        /// The prepaid account (every call of the member shares this id, not a copy).
        #[serde(with = "account_id")]
        account: AccountId,
    },
}

/// An [`AccountId`] in the file form: a plain string.
mod account_id {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::prepaid::AccountId;

    pub(super) fn serialize<S: Serializer>(id: &AccountId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(id.as_str())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<AccountId, D::Error> {
        String::deserialize(d).map(|s| AccountId(s.into()))
    }
}

/// A VPN member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// Public number, E.164 digits with country code, no `+`.
    pub number: String,
    /// Private extension, `extension_length` digits.
    pub extension: String,
    /// Class of service.
    #[serde(default)]
    pub class_of_service: ClassOfService,
    /// E.164 prefixes this member may not call (e.g. premium rate `"1900"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_prefixes: Vec<String>,
    /// PIN hash, `sha256$<salt hex>$<hash hex>` (see [`super::pin`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    /// When the PIN is asked.
    #[serde(default)]
    pub pin_policy: PinPolicy,
    /// Charging mode.
    #[serde(default)]
    pub charging: Charging,
    /// Inactive members can neither call nor be called.
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub active: bool,
}

/// A block of generated members with consecutive numbers, extensions and accounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberRange {
    /// How many members.
    pub count: u32,
    /// Public number of the first; the others follow (same length).
    pub first_number: String,
    /// Extension of the first; the others follow (same length).
    pub first_extension: String,
    /// Class of service of all.
    #[serde(default)]
    pub class_of_service: ClassOfService,
    /// Blocked prefixes of all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_prefixes: Vec<String>,
    /// PIN hash shared by all (load tests only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    /// PIN policy of all.
    #[serde(default)]
    pub pin_policy: PinPolicy,
    /// Present: every member is prepaid on its own generated account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prepaid: Option<RangePrepaid>,
}

/// Generated accounts of a member range: `<account_prefix><n zero-padded to account_width>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangePrepaid {
    /// Account id prefix, e.g. `"LOAD-"`.
    pub account_prefix: String,
    /// Number of the first account.
    #[serde(default)]
    pub first_account: u64,
    /// Zero-padded width of the account number.
    #[serde(default = "default_account_width")]
    pub account_width: usize,
    /// Initial balance of each account, minor units.
    pub balance: Money,
    /// Expiry date of each account, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
}

fn default_account_width() -> usize {
    6
}

/// A prepaid account's provisioned state. The ledger owns the live balance; this is what it is
/// seeded with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// Account id.
    pub id: String,
    /// Initial balance, minor units.
    pub balance: Money,
    /// State.
    #[serde(default)]
    pub state: AccountState,
    /// Last valid day, `YYYY-MM-DD` (UTC); none = no expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
}

impl Account {
    /// The expiry date as days since 1970-01-01, if set and well-formed.
    pub fn expiry_epoch_day(&self) -> Option<i64> {
        self.expiry.as_deref().and_then(parse_date)
    }
}

/// A prepaid account's administrative state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountState {
    /// Usable.
    #[default]
    Active,
    /// Barred by the operator.
    Suspended,
    /// Marked expired.
    Expired,
}

/// A provisioning error: what is wrong, and where.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProvisioningError {
    /// Reading or writing the file failed.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        reason: String,
    },
    /// The TOML did not parse or does not match the schema.
    #[error("provisioning file does not parse: {0}")]
    Parse(String),
    /// Serialising failed.
    #[error("cannot serialise provisioning: {0}")]
    Serialize(String),
    /// Two things share an id.
    #[error("duplicate {kind} id {id:?}")]
    DuplicateId {
        /// tariff, group or account
        kind: &'static str,
        /// the id
        id: String,
    },
    /// A referenced tariff does not exist.
    #[error("group {group:?}: unknown tariff {tariff:?}")]
    UnknownTariff {
        /// The group.
        group: String,
        /// The tariff.
        tariff: String,
    },
    /// A rate or prefix is unusable.
    #[error("tariff {tariff:?} class {class:?}: {reason}")]
    BadTariff {
        /// The tariff.
        tariff: String,
        /// The class.
        class: String,
        /// What is wrong.
        reason: String,
    },
    /// A number, prefix or extension is not well-formed.
    #[error("{context}: bad {what} {value:?}: {reason}")]
    BadNumber {
        /// Where it was found.
        context: String,
        /// Which field.
        what: &'static str,
        /// The value.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Two members of a group share an extension.
    #[error("group {group:?}: duplicate extension {extension:?}")]
    DuplicateExtension {
        /// The group.
        group: String,
        /// The extension.
        extension: String,
    },
    /// Two members share a public number.
    #[error("duplicate member number {number:?} (groups {first:?} and {second:?})")]
    DuplicateNumber {
        /// The number.
        number: String,
        /// One group.
        first: String,
        /// The other.
        second: String,
    },
    /// A member references an account that does not exist.
    #[error("member {member:?}: unknown account {account:?}")]
    UnknownAccount {
        /// The member's number.
        member: String,
        /// The account.
        account: String,
    },
    /// A PIN is required but missing or malformed.
    #[error("member {member:?}: {reason}")]
    BadPin {
        /// The member's number.
        member: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A date is not `YYYY-MM-DD`.
    #[error("account {account:?}: bad expiry date {value:?} (want YYYY-MM-DD)")]
    BadDate {
        /// The account.
        account: String,
        /// The value.
        value: String,
    },
    /// A group has no service key or a bad extension length.
    #[error("group {group:?}: {reason}")]
    BadGroup {
        /// The group.
        group: String,
        /// What is wrong.
        reason: String,
    },
    /// The named thing does not exist.
    #[error("no such {kind} {id:?}")]
    NotFound {
        /// What was looked for.
        kind: &'static str,
        /// Its id.
        id: String,
    },
    /// The thing is still referenced.
    #[error("{kind} {id:?} is in use by {by}")]
    InUse {
        /// What.
        kind: &'static str,
        /// Its id.
        id: String,
        /// Who uses it.
        by: String,
    },
    /// The member was generated by a member range.
    #[error("member {number:?} is generated by a member_range of group {group:?}: upsert it to override, or change the range")]
    Generated {
        /// The number.
        number: String,
        /// The group.
        group: String,
    },
}

/// A group with its resolved tariffs and members, as indexed.
#[derive(Debug)]
pub struct GroupEntry {
    /// The group's attributes (its `members` and `member_ranges` are empty here; see `members`).
    pub group: Group,
    /// Explicit members first, then generated ones.
    pub members: Vec<Arc<Member>>,
    /// How many of `members` are explicit.
    pub explicit_members: usize,
    /// Tariff for on-net calls.
    pub on_net_tariff: Arc<Tariff>,
    /// Tariff for off-net calls.
    pub off_net_tariff: Arc<Tariff>,
    by_extension: HashMap<String, usize>,
}

impl GroupEntry {
    /// The member with this extension.
    pub fn member_by_extension(&self, extension: &str) -> Option<&Arc<Member>> {
        self.by_extension
            .get(extension)
            .and_then(|&i| self.members.get(i))
    }
}

/// A member found through an index, with its group.
#[derive(Clone, Copy, Debug)]
pub struct MemberRef<'a> {
    /// Index of the group in [`Provisioning::groups`].
    pub group_index: usize,
    /// Index of the member in the group's `members`.
    pub member_index: usize,
    /// The group.
    pub group: &'a GroupEntry,
    /// The member.
    pub member: &'a Arc<Member>,
}

/// A validated, indexed, immutable provisioning snapshot.
#[derive(Debug)]
pub struct Provisioning {
    data: ProvisioningData,
    tariffs: HashMap<String, Arc<Tariff>>,
    groups: Vec<GroupEntry>,
    group_index: HashMap<String, usize>,
    by_service_key: HashMap<u32, Vec<usize>>,
    by_number: HashMap<String, (usize, usize)>,
    accounts: BTreeMap<String, Account>,
}

impl Provisioning {
    /// An empty provisioning (no groups: every service key is unknown).
    pub fn empty() -> Self {
        // An empty data set always validates.
        Self::from_data(ProvisioningData::default()).unwrap_or_else(|_| Provisioning {
            data: ProvisioningData::default(),
            tariffs: HashMap::new(),
            groups: Vec::new(),
            group_index: HashMap::new(),
            by_service_key: HashMap::new(),
            by_number: HashMap::new(),
            accounts: BTreeMap::new(),
        })
    }

    /// Parse a TOML provisioning file's content.
    pub fn from_toml_str(s: &str) -> Result<Self, ProvisioningError> {
        let data: ProvisioningData =
            toml::from_str(s).map_err(|e| ProvisioningError::Parse(e.to_string()))?;
        Self::from_data(data)
    }

    /// Load and validate a TOML provisioning file.
    pub fn load(path: &Path) -> Result<Self, ProvisioningError> {
        let s = std::fs::read_to_string(path).map_err(|e| ProvisioningError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::from_toml_str(&s)
    }

    /// The data as TOML, for persistence.
    pub fn to_toml_string(&self) -> Result<String, ProvisioningError> {
        toml::to_string_pretty(&self.data).map_err(|e| ProvisioningError::Serialize(e.to_string()))
    }

    /// Write the data to `path` atomically (temporary file, fsync, rename).
    pub fn save(&self, path: &Path) -> Result<(), ProvisioningError> {
        use std::io::Write;
        let text = self.to_toml_string()?;
        let io = |e: std::io::Error| ProvisioningError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        let tmp = path.with_extension("toml.tmp");
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(text.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// The file form.
    pub fn data(&self) -> &ProvisioningData {
        &self.data
    }

    /// Validate and index `data`.
    pub fn from_data(data: ProvisioningData) -> Result<Self, ProvisioningError> {
        let mut tariffs = HashMap::new();
        for t in &data.tariffs {
            validate_tariff(t)?;
            if tariffs.insert(t.id.clone(), Arc::new(t.clone())).is_some() {
                return Err(ProvisioningError::DuplicateId {
                    kind: "tariff",
                    id: t.id.clone(),
                });
            }
        }
        let mut accounts = BTreeMap::new();
        for a in &data.accounts {
            if let Some(e) = &a.expiry {
                if parse_date(e).is_none() {
                    return Err(ProvisioningError::BadDate {
                        account: a.id.clone(),
                        value: e.clone(),
                    });
                }
            }
            if a.id.is_empty() || accounts.insert(a.id.clone(), a.clone()).is_some() {
                return Err(ProvisioningError::DuplicateId {
                    kind: "account",
                    id: a.id.clone(),
                });
            }
        }

        // Generated accounts first: an explicit member may override a generated one and keep
        // its account.
        for g in &data.groups {
            for r in &g.member_ranges {
                if let Some(p) = &r.prepaid {
                    if let Some(e) = &p.expiry {
                        if parse_date(e).is_none() {
                            return Err(ProvisioningError::BadDate {
                                account: p.account_prefix.clone(),
                                value: e.clone(),
                            });
                        }
                    }
                    for i in 0..u64::from(r.count) {
                        let id = range_account_id(p, i);
                        let acc = Account {
                            id: id.clone(),
                            balance: p.balance,
                            state: AccountState::Active,
                            expiry: p.expiry.clone(),
                        };
                        if accounts.insert(id.clone(), acc).is_some() {
                            return Err(ProvisioningError::DuplicateId {
                                kind: "account",
                                id,
                            });
                        }
                    }
                }
            }
        }

        let mut groups = Vec::with_capacity(data.groups.len());
        let mut group_index = HashMap::new();
        let mut by_service_key: HashMap<u32, Vec<usize>> = HashMap::new();
        let mut by_number: HashMap<String, (usize, usize)> = HashMap::new();

        for (gi, g) in data.groups.iter().enumerate() {
            validate_group(g)?;
            if group_index.insert(g.id.clone(), gi).is_some() {
                return Err(ProvisioningError::DuplicateId {
                    kind: "group",
                    id: g.id.clone(),
                });
            }
            let tariff = |id: &str| {
                tariffs
                    .get(id)
                    .cloned()
                    .ok_or_else(|| ProvisioningError::UnknownTariff {
                        group: g.id.clone(),
                        tariff: id.to_string(),
                    })
            };
            let on_net_tariff = tariff(&g.on_net_tariff)?;
            let off_net_tariff = tariff(&g.off_net_tariff)?;
            for &k in &g.service_keys {
                by_service_key.entry(k).or_default().push(gi);
            }

            let mut entry = GroupEntry {
                group: Group {
                    members: Vec::new(),
                    member_ranges: Vec::new(),
                    ..g.clone()
                },
                members: Vec::with_capacity(g.members.len()),
                explicit_members: g.members.len(),
                on_net_tariff,
                off_net_tariff,
                by_extension: HashMap::new(),
            };
            for m in &g.members {
                validate_member(g, m, &accounts)?;
                add_member(&mut entry, gi, Arc::new(m.clone()), &mut by_number, &groups)?;
            }
            for r in &g.member_ranges {
                expand_range(g, r, &accounts, |m| {
                    match by_number.get(&m.number) {
                        // An explicit member of this group overrides the generated one.
                        Some(&(ogi, _)) if ogi == gi => Ok(()),
                        _ => add_member(&mut entry, gi, Arc::new(m), &mut by_number, &groups),
                    }
                })?;
            }
            groups.push(entry);
        }

        Ok(Provisioning {
            data,
            tariffs,
            groups,
            group_index,
            by_service_key,
            by_number,
            accounts,
        })
    }

    /// All groups, in file order.
    pub fn groups(&self) -> &[GroupEntry] {
        &self.groups
    }

    /// A group by id.
    pub fn group(&self, id: &str) -> Option<(usize, &GroupEntry)> {
        let &i = self.group_index.get(id)?;
        self.groups.get(i).map(|g| (i, g))
    }

    /// Indexes of the groups bound to a service key.
    pub fn groups_for_key(&self, service_key: u32) -> &[usize] {
        self.by_service_key
            .get(&service_key)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The member with this public number (E.164 digits).
    pub fn member_by_number(&self, digits: &str) -> Option<MemberRef<'_>> {
        let &(gi, mi) = self.by_number.get(digits)?;
        self.member_at(gi, mi)
    }

    /// The member of group `group_index` with this extension.
    pub fn member_by_extension(
        &self,
        group_index: usize,
        extension: &str,
    ) -> Option<MemberRef<'_>> {
        let g = self.groups.get(group_index)?;
        let &mi = g.by_extension.get(extension)?;
        self.member_at(group_index, mi)
    }

    /// The member at these indexes.
    pub fn member_at(&self, group_index: usize, member_index: usize) -> Option<MemberRef<'_>> {
        let group = self.groups.get(group_index)?;
        let member = group.members.get(member_index)?;
        Some(MemberRef {
            group_index,
            member_index,
            group,
            member,
        })
    }

    /// A tariff by id.
    pub fn tariff(&self, id: &str) -> Option<&Arc<Tariff>> {
        self.tariffs.get(id)
    }

    /// Every account, explicit and generated, by id: what the ledger is seeded with.
    pub fn accounts(&self) -> &BTreeMap<String, Account> {
        &self.accounts
    }

    /// How many members in all (explicit and generated).
    pub fn member_count(&self) -> usize {
        self.by_number.len()
    }

    /// A new snapshot with `change` applied to a copy of the data, validated.
    pub fn with_change(
        &self,
        change: impl FnOnce(&mut ProvisioningData) -> Result<(), ProvisioningError>,
    ) -> Result<Provisioning, ProvisioningError> {
        let mut data = self.data.clone();
        change(&mut data)?;
        Provisioning::from_data(data)
    }
}

/// Changes the admin API makes. Each takes the data and returns an error if the change is
/// impossible; [`Provisioning::from_data`] then validates the result as a whole.
pub mod change {
    use super::*;

    /// Insert or replace a tariff.
    pub fn upsert_tariff(d: &mut ProvisioningData, t: Tariff) -> Result<(), ProvisioningError> {
        match d.tariffs.iter_mut().find(|x| x.id == t.id) {
            Some(x) => *x = t,
            None => d.tariffs.push(t),
        }
        Ok(())
    }

    /// Delete a tariff no group uses.
    pub fn delete_tariff(d: &mut ProvisioningData, id: &str) -> Result<(), ProvisioningError> {
        if let Some(g) = d
            .groups
            .iter()
            .find(|g| g.on_net_tariff == id || g.off_net_tariff == id)
        {
            return Err(ProvisioningError::InUse {
                kind: "tariff",
                id: id.into(),
                by: format!("group {}", g.id),
            });
        }
        let before = d.tariffs.len();
        d.tariffs.retain(|t| t.id != id);
        found(before != d.tariffs.len(), "tariff", id)
    }

    /// Insert or replace a group's attributes. Existing members and ranges are kept unless the
    /// new group carries members (or ranges), which then replace them.
    pub fn upsert_group(d: &mut ProvisioningData, mut g: Group) -> Result<(), ProvisioningError> {
        match d.groups.iter_mut().find(|x| x.id == g.id) {
            Some(x) => {
                if g.members.is_empty() {
                    g.members = std::mem::take(&mut x.members);
                }
                if g.member_ranges.is_empty() {
                    g.member_ranges = std::mem::take(&mut x.member_ranges);
                }
                *x = g;
            }
            None => d.groups.push(g),
        }
        Ok(())
    }

    /// Delete a group and its members.
    pub fn delete_group(d: &mut ProvisioningData, id: &str) -> Result<(), ProvisioningError> {
        let before = d.groups.len();
        d.groups.retain(|g| g.id != id);
        found(before != d.groups.len(), "group", id)
    }

    /// Insert or replace (by public number) a member of a group.
    pub fn upsert_member(
        d: &mut ProvisioningData,
        group: &str,
        m: Member,
    ) -> Result<(), ProvisioningError> {
        // A number moves between groups by being deleted from the old one.
        for g in d.groups.iter_mut().filter(|g| g.id != group) {
            g.members.retain(|x| x.number != m.number);
        }
        let g = group_mut(d, group)?;
        match g.members.iter_mut().find(|x| x.number == m.number) {
            Some(x) => *x = m,
            None => g.members.push(m),
        }
        Ok(())
    }

    /// Delete an explicit member by public number.
    pub fn delete_member(
        d: &mut ProvisioningData,
        group: &str,
        number: &str,
    ) -> Result<(), ProvisioningError> {
        let g = group_mut(d, group)?;
        let before = g.members.len();
        g.members.retain(|x| x.number != number);
        if before != g.members.len() {
            return Ok(());
        }
        let generated = g
            .member_ranges
            .iter()
            .any(|r| range_number_index(r, number).is_some());
        if generated {
            return Err(ProvisioningError::Generated {
                number: number.into(),
                group: group.into(),
            });
        }
        found(false, "member", number)
    }

    /// Insert or replace an account.
    pub fn upsert_account(d: &mut ProvisioningData, a: Account) -> Result<(), ProvisioningError> {
        match d.accounts.iter_mut().find(|x| x.id == a.id) {
            Some(x) => *x = a,
            None => d.accounts.push(a),
        }
        Ok(())
    }

    /// Delete an account no member uses.
    pub fn delete_account(d: &mut ProvisioningData, id: &str) -> Result<(), ProvisioningError> {
        for g in &d.groups {
            for m in &g.members {
                if matches!(&m.charging, Charging::Prepaid { account } if account.as_str() == id) {
                    return Err(ProvisioningError::InUse {
                        kind: "account",
                        id: id.into(),
                        by: format!("member {}", m.number),
                    });
                }
            }
        }
        let before = d.accounts.len();
        d.accounts.retain(|a| a.id != id);
        found(before != d.accounts.len(), "account", id)
    }

    fn group_mut<'a>(
        d: &'a mut ProvisioningData,
        id: &str,
    ) -> Result<&'a mut Group, ProvisioningError> {
        d.groups
            .iter_mut()
            .find(|g| g.id == id)
            .ok_or_else(|| ProvisioningError::NotFound {
                kind: "group",
                id: id.into(),
            })
    }

    fn found(ok: bool, kind: &'static str, id: &str) -> Result<(), ProvisioningError> {
        if ok {
            Ok(())
        } else {
            Err(ProvisioningError::NotFound {
                kind,
                id: id.into(),
            })
        }
    }
}

/// The current provisioning snapshot, swapped atomically on change, optionally persisted.
#[derive(Debug)]
pub struct ProvisioningStore {
    current: RwLock<Arc<Provisioning>>,
    writer: Mutex<()>,
    path: Option<PathBuf>,
}

impl ProvisioningStore {
    /// A store around a snapshot; with a `path`, every change is written there before it is
    /// made visible.
    pub fn new(initial: Provisioning, path: Option<PathBuf>) -> Self {
        ProvisioningStore {
            current: RwLock::new(Arc::new(initial)),
            writer: Mutex::new(()),
            path,
        }
    }

    /// Load from a file; changes are persisted back to it.
    pub fn open(path: &Path) -> Result<Self, ProvisioningError> {
        Ok(Self::new(
            Provisioning::load(path)?,
            Some(path.to_path_buf()),
        ))
    }

    /// The current snapshot (cheap: one `Arc` clone under a read lock).
    pub fn snapshot(&self) -> Arc<Provisioning> {
        self.current.read().clone()
    }

    /// Apply a change: validate, persist (if a path is set), then swap. Changes are serialised;
    /// readers never wait for validation or disk.
    pub fn update(
        &self,
        change: impl FnOnce(&mut ProvisioningData) -> Result<(), ProvisioningError>,
    ) -> Result<Arc<Provisioning>, ProvisioningError> {
        let _w = self.writer.lock();
        let next = Arc::new(self.snapshot().with_change(change)?);
        if let Some(p) = &self.path {
            next.save(p)?;
        }
        *self.current.write() = next.clone();
        Ok(next)
    }
}

fn add_member(
    entry: &mut GroupEntry,
    gi: usize,
    m: Arc<Member>,
    by_number: &mut HashMap<String, (usize, usize)>,
    groups: &[GroupEntry],
) -> Result<(), ProvisioningError> {
    let mi = entry.members.len();
    if let Some(&(ogi, _)) = by_number.get(&m.number) {
        let first = groups
            .get(ogi)
            .map_or_else(|| entry.group.id.clone(), |g| g.group.id.clone());
        return Err(ProvisioningError::DuplicateNumber {
            number: m.number.clone(),
            first,
            second: entry.group.id.clone(),
        });
    }
    if entry.by_extension.contains_key(&m.extension) {
        return Err(ProvisioningError::DuplicateExtension {
            group: entry.group.id.clone(),
            extension: m.extension.clone(),
        });
    }
    by_number.insert(m.number.clone(), (gi, mi));
    entry.by_extension.insert(m.extension.clone(), mi);
    entry.members.push(m);
    Ok(())
}

fn is_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

fn check_digits(
    context: &str,
    what: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), ProvisioningError> {
    let reason = if !is_digits(value) {
        Some("digits 0-9 only")
    } else if value.len() < min || value.len() > max {
        Some("wrong length")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(ProvisioningError::BadNumber {
            context: context.into(),
            what,
            value: value.into(),
            reason,
        }),
        None => Ok(()),
    }
}

fn validate_tariff(t: &Tariff) -> Result<(), ProvisioningError> {
    if t.id.is_empty() {
        return Err(ProvisioningError::DuplicateId {
            kind: "tariff",
            id: String::new(),
        });
    }
    for c in &t.classes {
        let bad = |reason: String| ProvisioningError::BadTariff {
            tariff: t.id.clone(),
            class: c.name.clone(),
            reason,
        };
        if let Some(p) = c.rate.problem() {
            return Err(bad(p.into()));
        }
        if c.prefixes.is_empty() {
            return Err(bad("no prefixes (use \"\" to match everything)".into()));
        }
        if let Some(p) = c.prefixes.iter().find(|p| !is_digits(p) || p.len() > 15) {
            return Err(bad(format!("bad prefix {p:?}")));
        }
    }
    Ok(())
}

fn validate_group(g: &Group) -> Result<(), ProvisioningError> {
    let bad = |reason: &str| ProvisioningError::BadGroup {
        group: g.id.clone(),
        reason: reason.into(),
    };
    if g.id.is_empty() {
        return Err(bad("empty id"));
    }
    if g.service_keys.is_empty() {
        return Err(bad("no service_keys"));
    }
    if !(1..=8).contains(&g.extension_length) {
        return Err(bad("extension_length must be 1..8"));
    }
    let ctx = format!("group {}", g.id);
    check_digits(&ctx, "country_code", &g.country_code, 1, 3)?;
    check_digits(&ctx, "national_prefix", &g.national_prefix, 0, 4)?;
    check_digits(&ctx, "international_prefix", &g.international_prefix, 1, 4)?;
    if let Some(p) = &g.offnet_prefix {
        check_digits(&ctx, "offnet_prefix", p, 1, 4)?;
    }
    Ok(())
}

fn validate_member(
    g: &Group,
    m: &Member,
    accounts: &BTreeMap<String, Account>,
) -> Result<(), ProvisioningError> {
    let ctx = format!("group {} member {}", g.id, m.number);
    check_digits(&ctx, "number", &m.number, 4, 15)?;
    check_digits(
        &ctx,
        "extension",
        &m.extension,
        g.extension_length,
        g.extension_length,
    )?;
    if let Some(p) = &g.offnet_prefix {
        if m.extension.starts_with(p.as_str()) {
            return Err(ProvisioningError::BadNumber {
                context: ctx,
                what: "extension",
                value: m.extension.clone(),
                reason: "starts with the group's off-net access prefix",
            });
        }
    }
    for p in &m.blocked_prefixes {
        check_digits(&ctx, "blocked prefix", p, 1, 15)?;
    }
    match (&m.pin, m.pin_policy) {
        (None, PinPolicy::Always | PinPolicy::OffNet) => {
            return Err(ProvisioningError::BadPin {
                member: m.number.clone(),
                reason: "pin_policy asks for a PIN but no pin hash is provisioned",
            })
        }
        (Some(h), _) if !pin::is_valid_hash(h) => {
            return Err(ProvisioningError::BadPin {
                member: m.number.clone(),
                reason: "pin is not sha256$<salt hex>$<hash hex>",
            })
        }
        _ => {}
    }
    if let Charging::Prepaid { account } = &m.charging {
        if !accounts.contains_key(account.as_str()) {
            return Err(ProvisioningError::UnknownAccount {
                member: m.number.clone(),
                account: account.as_str().to_string(),
            });
        }
    }
    Ok(())
}

/// Index of `number` within the range, if the range generates it.
fn range_number_index(r: &MemberRange, number: &str) -> Option<u64> {
    if number.len() != r.first_number.len() || !is_digits(number) {
        return None;
    }
    let first: u64 = r.first_number.parse().ok()?;
    let n: u64 = number.parse().ok()?;
    let i = n.checked_sub(first)?;
    (i < u64::from(r.count)).then_some(i)
}

fn nth(first: &str, i: u64) -> Option<String> {
    let v: u64 = first.parse().ok()?;
    let s = format!("{:0width$}", v.checked_add(i)?, width = first.len());
    (s.len() == first.len()).then_some(s)
}

fn expand_range(
    g: &Group,
    r: &MemberRange,
    accounts: &BTreeMap<String, Account>,
    mut add: impl FnMut(Member) -> Result<(), ProvisioningError>,
) -> Result<(), ProvisioningError> {
    let ctx = format!("group {} member_range {}", g.id, r.first_number);
    check_digits(&ctx, "first_number", &r.first_number, 4, 15)?;
    check_digits(
        &ctx,
        "first_extension",
        &r.first_extension,
        g.extension_length,
        g.extension_length,
    )?;
    let overflow = |what: &'static str, value: &str| ProvisioningError::BadNumber {
        context: ctx.clone(),
        what,
        value: value.into(),
        reason: "count runs past the last number of this length",
    };
    for i in 0..u64::from(r.count) {
        let number =
            nth(&r.first_number, i).ok_or_else(|| overflow("first_number", &r.first_number))?;
        let extension = nth(&r.first_extension, i)
            .ok_or_else(|| overflow("first_extension", &r.first_extension))?;
        let charging = match &r.prepaid {
            None => Charging::Postpaid,
            Some(p) => Charging::Prepaid {
                account: AccountId(range_account_id(p, i).into()),
            },
        };
        let m = Member {
            number,
            extension,
            class_of_service: r.class_of_service,
            blocked_prefixes: r.blocked_prefixes.clone(),
            pin: r.pin.clone(),
            pin_policy: r.pin_policy,
            charging,
            active: true,
        };
        validate_member(g, &m, accounts)?;
        add(m)?;
    }
    Ok(())
}

fn range_account_id(p: &RangePrepaid, i: u64) -> String {
    format!(
        "{}{:0width$}",
        p.account_prefix,
        p.first_account.saturating_add(i),
        width = p.account_width
    )
}

/// `YYYY-MM-DD` → days since 1970-01-01 (proleptic Gregorian).
pub fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = s.get(0..4)?.parse().ok()?;
    let m: u32 = s.get(5..7)?.parse().ok()?;
    let d: u32 = s.get(8..10)?.parse().ok()?;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if d == 0 || d > dim {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const EXAMPLE: &str = include_str!("../../examples/provisioning.toml");

    #[test]
    fn example_loads_and_indexes() {
        let p = Provisioning::from_toml_str(EXAMPLE).unwrap();
        assert_eq!(p.groups().len(), 2);
        assert_eq!(p.groups_for_key(100).len(), 1);
        assert_eq!(p.groups_for_key(101).len(), 1);
        assert!(p.groups_for_key(999).is_empty());
        assert!(p.member_count() > 2000);
        let m = p.member_by_number("12125550101").unwrap();
        assert_eq!(m.group.group.id, "acme-us");
        let e = p
            .member_by_extension(m.group_index, &m.member.extension)
            .unwrap();
        assert_eq!(e.member.number, "12125550101");
        // Generated members and accounts.
        let gen = p.member_by_number("12125560000").unwrap();
        match &gen.member.charging {
            Charging::Prepaid { account } => {
                assert!(p.accounts().contains_key(account.as_str()))
            }
            Charging::Postpaid => panic!("range members are prepaid"),
        }
        assert!(p.accounts().len() > 2000);
    }

    #[test]
    fn round_trips_through_toml() {
        let p = Provisioning::from_toml_str(EXAMPLE).unwrap();
        let text = p.to_toml_string().unwrap();
        let q = Provisioning::from_toml_str(&text).unwrap();
        assert_eq!(p.data(), q.data());
        assert_eq!(p.member_count(), q.member_count());
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2000-03-01"), Some(11_017));
        assert_eq!(parse_date("2024-02-29"), Some(19_782));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2023-13-01"), None);
        assert_eq!(parse_date("23-01-01"), None);
    }

    fn base() -> ProvisioningData {
        toml::from_str(
            r#"
            [[tariff]]
            id = "t"
            [[tariff.class]]
            name = "all"
            prefixes = [""]
            price_per_minute = 10
            first_interval = 60
            next_interval = 60
            [[account]]
            id = "A1"
            balance = 100
            [[group]]
            id = "g"
            name = "G"
            service_keys = [7]
            extension_length = 3
            country_code = "44"
            offnet_prefix = "9"
            on_net_tariff = "t"
            off_net_tariff = "t"
            [[group.member]]
            number = "441110000001"
            extension = "101"
            [[group.member]]
            number = "441110000002"
            extension = "102"
            charging = { mode = "prepaid", account = "A1" }
        "#,
        )
        .unwrap()
    }

    fn err(f: impl FnOnce(&mut ProvisioningData)) -> ProvisioningError {
        let mut d = base();
        f(&mut d);
        Provisioning::from_data(d).unwrap_err()
    }

    #[test]
    fn validation_errors_are_specific() {
        assert!(Provisioning::from_data(base()).is_ok());
        assert!(matches!(
            err(|d| d.groups[0].off_net_tariff = "nope".into()),
            ProvisioningError::UnknownTariff { .. }
        ));
        assert!(matches!(
            err(|d| d.groups[0].members[1].extension = "101".into()),
            ProvisioningError::DuplicateExtension { .. }
        ));
        assert!(matches!(
            err(|d| d.groups[0].members[1].number = "441110000001".into()),
            ProvisioningError::DuplicateNumber { .. }
        ));
        assert!(matches!(
            err(|d| d.groups[0].members[0].number = "44-111".into()),
            ProvisioningError::BadNumber { what: "number", .. }
        ));
        assert!(matches!(
            err(|d| d.groups[0].members[0].extension = "1011".into()),
            ProvisioningError::BadNumber {
                what: "extension",
                ..
            }
        ));
        assert!(matches!(
            err(|d| d.groups[0].members[0].extension = "901".into()),
            ProvisioningError::BadNumber {
                what: "extension",
                ..
            }
        ));
        assert!(matches!(
            err(|d| d.groups[0].members[1].charging = Charging::Prepaid {
                account: AccountId::new("X")
            }),
            ProvisioningError::UnknownAccount { .. }
        ));
        assert!(matches!(
            err(|d| d.groups[0].members[0].pin_policy = PinPolicy::Always),
            ProvisioningError::BadPin { .. }
        ));
        assert!(matches!(
            err(|d| d.accounts[0].expiry = Some("2024-02-30".into())),
            ProvisioningError::BadDate { .. }
        ));
        assert!(matches!(
            err(|d| d.tariffs[0].classes[0].rate.first_interval = 0),
            ProvisioningError::BadTariff { .. }
        ));
        assert!(matches!(
            err(|d| d.groups[0].service_keys.clear()),
            ProvisioningError::BadGroup { .. }
        ));
        let msg = err(|d| d.groups[0].off_net_tariff = "nope".into()).to_string();
        assert_eq!(msg, "group \"g\": unknown tariff \"nope\"");
    }

    #[test]
    fn parse_error_names_the_problem() {
        let e = Provisioning::from_toml_str("[[group]]\nid = 1\n").unwrap_err();
        assert!(matches!(e, ProvisioningError::Parse(_)));
    }

    #[test]
    fn store_updates_swap_and_persist() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prov.toml");
        let p = Provisioning::from_data(base()).unwrap();
        p.save(&path).unwrap();
        let store = ProvisioningStore::open(&path).unwrap();
        let old = store.snapshot();
        let m = Member {
            number: "441110000003".into(),
            extension: "103".into(),
            class_of_service: ClassOfService::OnNetOnly,
            blocked_prefixes: vec![],
            pin: Some(pin::hash_pin("9999")),
            pin_policy: PinPolicy::Always,
            charging: Charging::Postpaid,
            active: true,
        };
        store
            .update(|d| change::upsert_member(d, "g", m.clone()))
            .unwrap();
        // Old snapshot unchanged; new one has the member; the file too.
        assert!(old.member_by_number("441110000003").is_none());
        assert!(store.snapshot().member_by_number("441110000003").is_some());
        let reloaded = Provisioning::load(&path).unwrap();
        assert!(reloaded.member_by_number("441110000003").is_some());

        // A bad change is rejected and nothing moves.
        let bad = Member {
            extension: "101".into(),
            number: "441110000009".into(),
            ..m
        };
        assert!(store
            .update(|d| change::upsert_member(d, "g", bad))
            .is_err());
        assert!(store.snapshot().member_by_number("441110000009").is_none());

        assert!(matches!(
            store.update(|d| change::delete_tariff(d, "t")),
            Err(ProvisioningError::InUse { .. })
        ));
        assert!(matches!(
            store.update(|d| change::delete_account(d, "A1")),
            Err(ProvisioningError::InUse { .. })
        ));
        store
            .update(|d| change::delete_member(d, "g", "441110000002"))
            .unwrap();
        store.update(|d| change::delete_account(d, "A1")).unwrap();
        store.update(|d| change::delete_group(d, "g")).unwrap();
        assert!(store.snapshot().groups_for_key(7).is_empty());
        assert!(matches!(
            store.update(|d| change::delete_group(d, "g")),
            Err(ProvisioningError::NotFound { .. })
        ));
    }

    #[test]
    fn explicit_member_overrides_generated_one() {
        let mut d = base();
        d.groups[0].member_ranges.push(MemberRange {
            count: 10,
            first_number: "441120000000".into(),
            first_extension: "200".into(),
            class_of_service: ClassOfService::International,
            blocked_prefixes: vec![],
            pin: None,
            pin_policy: PinPolicy::Never,
            prepaid: Some(RangePrepaid {
                account_prefix: "L".into(),
                first_account: 0,
                account_width: 3,
                balance: 500,
                expiry: None,
            }),
        });
        let p = Provisioning::from_data(d).unwrap();
        assert_eq!(p.member_count(), 12);
        assert!(p.accounts().contains_key("L009"));
        let m = p.member_by_number("441120000005").unwrap();
        assert_eq!(m.member.extension, "205");
        assert!(matches!(
            p.with_change(|d| change::delete_member(d, "g", "441120000005")),
            Err(ProvisioningError::Generated { .. })
        ));
        let q = p
            .with_change(|d| {
                let mut m = (**m.member).clone();
                m.active = false;
                change::upsert_member(d, "g", m)
            })
            .unwrap();
        assert_eq!(q.member_count(), 12);
        assert!(!q.member_by_number("441120000005").unwrap().member.active);
        // Range overflow is reported.
        let mut d = base();
        d.groups[0].member_ranges.push(MemberRange {
            count: 5,
            first_number: "441120000000".into(),
            first_extension: "998".into(),
            class_of_service: ClassOfService::International,
            blocked_prefixes: vec![],
            pin: None,
            pin_policy: PinPolicy::Never,
            prepaid: None,
        });
        assert!(matches!(
            Provisioning::from_data(d),
            Err(ProvisioningError::BadNumber { .. })
        ));
    }
}
