//! The `Tx` implementation shared by the backends: every repository method delegates to the
//! function of the same name in the backend's module (`crate::<backend>::<entity>::<fn>`), so each
//! backend only writes its SQL, never this glue twice.

/// Implements [`crate::Tx`] for `$ty`, which must have `fn conn(&mut self)` giving the backend's
/// connection and `async fn finish(self)` committing.
macro_rules! delegate_tx {
    ($ty:ty, $backend:ident) => {
        #[async_trait::async_trait]
        impl crate::Tx for $ty {
            async fn commit(self: Box<Self>) -> Result<(), crate::StoreError> {
                (*self).finish().await
            }
            async fn accesses_of_user(
                &mut self,
                org_id: Uuid,
                user_id: Uuid,
                now: DateTime<Utc>,
            ) -> Result<Vec<portcullis_domain::workapp::UserAccess>, crate::StoreError> {
                crate::$backend::accesses::of_user(self.conn(), org_id, user_id, now).await
            }
            async fn hidden_app_ids_for_user(
                &mut self,
                org_id: Uuid,
                user_id: Uuid,
            ) -> Result<Vec<Uuid>, crate::StoreError> {
                crate::$backend::groups::hidden_for_user(self.conn(), org_id, user_id).await
            }
            async fn lock_org(&mut self, org_id: Uuid) -> Result<(), crate::StoreError> {
                self.lock_org_impl(org_id).await
            }

            async fn insert_organization(&mut self, org: &Organization) -> Result<(), StoreError> {
                crate::$backend::organizations::insert(self.conn(), org).await
            }
            async fn get_organization(
                &mut self,
                id: Uuid,
            ) -> Result<Option<Organization>, StoreError> {
                crate::$backend::organizations::get(self.conn(), id).await
            }
            async fn update_organization(&mut self, org: &Organization) -> Result<(), StoreError> {
                crate::$backend::organizations::update(self.conn(), org).await
            }

            async fn insert_user(&mut self, user: &User) -> Result<(), StoreError> {
                crate::$backend::users::insert(self.conn(), user).await
            }
            async fn update_user(&mut self, user: &User) -> Result<(), StoreError> {
                crate::$backend::users::update(self.conn(), user).await
            }
            async fn get_user(
                &mut self,
                org_id: Uuid,
                id: Uuid,
            ) -> Result<Option<User>, StoreError> {
                crate::$backend::users::get(self.conn(), org_id, id).await
            }
            async fn list_users(
                &mut self,
                org_id: Uuid,
                page: PageRequest,
            ) -> Result<Page<User>, StoreError> {
                crate::$backend::users::list(self.conn(), org_id, page).await
            }
            async fn find_users_by_email(&mut self, email: &str) -> Result<Vec<User>, StoreError> {
                crate::$backend::users::find_by_email(self.conn(), email).await
            }
            async fn manager_chain(
                &mut self,
                org_id: Uuid,
                user_id: Uuid,
                max: usize,
            ) -> Result<Vec<Uuid>, StoreError> {
                crate::$backend::users::manager_chain(self.conn(), org_id, user_id, max).await
            }
            async fn count_active_with_role(
                &mut self,
                org_id: Uuid,
                role: OrgRole,
            ) -> Result<i64, StoreError> {
                crate::$backend::users::count_active_with_role(self.conn(), org_id, role).await
            }
            async fn set_last_login(
                &mut self,
                org_id: Uuid,
                user_id: Uuid,
                at: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                crate::$backend::users::set_last_login(self.conn(), org_id, user_id, at).await
            }

            async fn insert_api_credential(
                &mut self,
                cred: &ApiCredential,
            ) -> Result<(), StoreError> {
                crate::$backend::credentials::insert_api_credential(self.conn(), cred).await
            }
            async fn get_api_credential(
                &mut self,
                id: Uuid,
            ) -> Result<Option<ApiCredential>, StoreError> {
                crate::$backend::credentials::get_api_credential(self.conn(), id).await
            }
            async fn list_api_credentials(
                &mut self,
                org_id: Uuid,
            ) -> Result<Vec<ApiCredential>, StoreError> {
                crate::$backend::credentials::list_api_credentials(self.conn(), org_id).await
            }
            async fn revoke_api_credential(
                &mut self,
                org_id: Uuid,
                id: Uuid,
                at: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                crate::$backend::credentials::revoke_api_credential(self.conn(), org_id, id, at)
                    .await
            }
            async fn insert_user_token(&mut self, token: &UserToken) -> Result<(), StoreError> {
                crate::$backend::credentials::insert_user_token(self.conn(), token).await
            }
            async fn get_user_token(&mut self, id: Uuid) -> Result<Option<UserToken>, StoreError> {
                crate::$backend::credentials::get_user_token(self.conn(), id).await
            }
            async fn revoke_user_token(
                &mut self,
                org_id: Uuid,
                user_id: Uuid,
                id: Uuid,
                at: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                crate::$backend::credentials::revoke_user_token(
                    self.conn(),
                    org_id,
                    user_id,
                    id,
                    at,
                )
                .await
            }

            async fn get_users(
                &mut self,
                org_id: Uuid,
                ids: &[Uuid],
            ) -> Result<Vec<User>, StoreError> {
                crate::$backend::users::get_many(self.conn(), org_id, ids).await
            }

            async fn insert_work_app(&mut self, app: &WorkApp) -> Result<(), StoreError> {
                crate::$backend::work_apps::insert(self.conn(), app).await
            }
            async fn update_work_app(&mut self, app: &WorkApp) -> Result<(), StoreError> {
                crate::$backend::work_apps::update(self.conn(), app).await
            }
            async fn get_work_app(
                &mut self,
                org_id: Uuid,
                id: Uuid,
            ) -> Result<Option<WorkApp>, StoreError> {
                crate::$backend::work_apps::get(self.conn(), org_id, id).await
            }
            async fn list_work_apps(
                &mut self,
                org_id: Uuid,
                page: PageRequest,
            ) -> Result<Page<WorkApp>, StoreError> {
                crate::$backend::work_apps::list(self.conn(), org_id, page).await
            }
            async fn count_live_accesses(
                &mut self,
                org_id: Uuid,
                app_ids: &[Uuid],
                now: DateTime<Utc>,
            ) -> Result<HashMap<Uuid, i64>, StoreError> {
                crate::$backend::accesses::count_live(self.conn(), org_id, app_ids, now).await
            }

            async fn insert_permission_level(
                &mut self,
                level: &PermissionLevel,
            ) -> Result<(), StoreError> {
                crate::$backend::work_apps::insert_level(self.conn(), level).await
            }
            async fn get_permission_level(
                &mut self,
                org_id: Uuid,
                id: Uuid,
            ) -> Result<Option<PermissionLevel>, StoreError> {
                crate::$backend::work_apps::get_level(self.conn(), org_id, id).await
            }
            async fn list_permission_levels(
                &mut self,
                org_id: Uuid,
                app_id: Uuid,
                page: PageRequest,
            ) -> Result<Page<PermissionLevel>, StoreError> {
                crate::$backend::work_apps::list_levels(self.conn(), org_id, app_id, page).await
            }

            async fn grant_facts(
                &mut self,
                org_id: Uuid,
                entries: &[GrantEntry],
            ) -> Result<GrantFacts, StoreError> {
                crate::$backend::accesses::grant_facts(self.conn(), org_id, entries).await
            }
            async fn upsert_accesses(
                &mut self,
                org_id: Uuid,
                rows: &[GrantEntry],
                source: AccessSource,
                now: DateTime<Utc>,
            ) -> Result<Vec<Access>, StoreError> {
                crate::$backend::accesses::upsert(self.conn(), org_id, rows, source, now).await
            }
            async fn get_access(
                &mut self,
                org_id: Uuid,
                app_id: Uuid,
                user_id: Uuid,
            ) -> Result<Option<Access>, StoreError> {
                crate::$backend::accesses::get(self.conn(), org_id, app_id, user_id).await
            }
            async fn list_accesses(
                &mut self,
                org_id: Uuid,
                app_id: Uuid,
                page: PageRequest,
                now: DateTime<Utc>,
            ) -> Result<Page<AccessDetail>, StoreError> {
                crate::$backend::accesses::list(self.conn(), org_id, app_id, page, now).await
            }
            async fn delete_access(
                &mut self,
                org_id: Uuid,
                app_id: Uuid,
                user_id: Uuid,
            ) -> Result<Option<Access>, StoreError> {
                crate::$backend::accesses::delete(self.conn(), org_id, app_id, user_id).await
            }
            async fn delete_expired_accesses(
                &mut self,
                now: DateTime<Utc>,
                limit: u32,
            ) -> Result<Vec<Access>, StoreError> {
                crate::$backend::accesses::delete_expired(self.conn(), now, limit).await
            }

            async fn insert_group(&mut self, group: &UsersGroup) -> Result<(), StoreError> {
                crate::$backend::groups::insert(self.conn(), group).await
            }
            async fn update_group(&mut self, group: &UsersGroup) -> Result<(), StoreError> {
                crate::$backend::groups::update(self.conn(), group).await
            }
            async fn delete_group(&mut self, org_id: Uuid, id: Uuid) -> Result<bool, StoreError> {
                crate::$backend::groups::delete(self.conn(), org_id, id).await
            }
            async fn get_group(
                &mut self,
                org_id: Uuid,
                id: Uuid,
            ) -> Result<Option<UsersGroup>, StoreError> {
                crate::$backend::groups::get(self.conn(), org_id, id).await
            }
            async fn list_groups(
                &mut self,
                org_id: Uuid,
                page: PageRequest,
            ) -> Result<Page<UsersGroup>, StoreError> {
                crate::$backend::groups::list(self.conn(), org_id, page).await
            }
            async fn list_group_members(
                &mut self,
                org_id: Uuid,
                group_id: Uuid,
                page: PageRequest,
            ) -> Result<Page<User>, StoreError> {
                crate::$backend::groups::list_members(self.conn(), org_id, group_id, page).await
            }
            async fn existing_members(
                &mut self,
                org_id: Uuid,
                group_id: Uuid,
                user_ids: &[Uuid],
            ) -> Result<Vec<Uuid>, StoreError> {
                crate::$backend::groups::existing_members(self.conn(), org_id, group_id, user_ids)
                    .await
            }
            async fn insert_group_members(
                &mut self,
                org_id: Uuid,
                group_id: Uuid,
                user_ids: &[Uuid],
                at: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                crate::$backend::groups::insert_members(self.conn(), org_id, group_id, user_ids, at)
                    .await
            }
            async fn delete_group_member(
                &mut self,
                org_id: Uuid,
                group_id: Uuid,
                user_id: Uuid,
            ) -> Result<bool, StoreError> {
                crate::$backend::groups::delete_member(self.conn(), org_id, group_id, user_id).await
            }
            async fn set_group_default_apps(
                &mut self,
                org_id: Uuid,
                group_id: Uuid,
                apps: &[DefaultWorkApp],
            ) -> Result<(), StoreError> {
                crate::$backend::groups::set_default_apps(self.conn(), org_id, group_id, apps).await
            }
            async fn group_default_apps(
                &mut self,
                org_id: Uuid,
                group_id: Uuid,
            ) -> Result<Vec<DefaultWorkApp>, StoreError> {
                crate::$backend::groups::default_apps(self.conn(), org_id, group_id).await
            }
            async fn set_group_hidden_apps(
                &mut self,
                org_id: Uuid,
                group_id: Uuid,
                app_ids: &[Uuid],
            ) -> Result<(), StoreError> {
                crate::$backend::groups::set_hidden_apps(self.conn(), org_id, group_id, app_ids)
                    .await
            }
            async fn group_hidden_apps(
                &mut self,
                org_id: Uuid,
                group_id: Uuid,
            ) -> Result<Vec<Uuid>, StoreError> {
                crate::$backend::groups::hidden_apps(self.conn(), org_id, group_id).await
            }
            async fn groups_of_apps(
                &mut self,
                org_id: Uuid,
                app_ids: &[Uuid],
            ) -> Result<HashMap<Uuid, AppGroups>, StoreError> {
                crate::$backend::groups::groups_of_apps(self.conn(), org_id, app_ids).await
            }
            async fn covered_pairs(
                &mut self,
                org_id: Uuid,
                user_ids: &[Uuid],
                app_ids: &[Uuid],
                now: DateTime<Utc>,
            ) -> Result<Vec<(Uuid, Uuid)>, StoreError> {
                crate::$backend::groups::covered_pairs(self.conn(), org_id, user_ids, app_ids, now)
                    .await
            }

            async fn insert_workspace(&mut self, workspace: &Workspace) -> Result<(), StoreError> {
                crate::$backend::workspaces::insert(self.conn(), workspace).await
            }
            async fn update_workspace(&mut self, workspace: &Workspace) -> Result<(), StoreError> {
                crate::$backend::workspaces::update(self.conn(), workspace).await
            }
            async fn get_workspace(
                &mut self,
                org_id: Uuid,
                id: Uuid,
            ) -> Result<Option<Workspace>, StoreError> {
                crate::$backend::workspaces::get(self.conn(), org_id, id).await
            }
            async fn list_workspaces(
                &mut self,
                org_id: Uuid,
                member_id: Option<Uuid>,
            ) -> Result<Vec<Workspace>, StoreError> {
                crate::$backend::workspaces::list(self.conn(), org_id, member_id).await
            }
            async fn get_workspace_member(
                &mut self,
                org_id: Uuid,
                workspace_id: Uuid,
                user_id: Uuid,
            ) -> Result<Option<WorkspaceMember>, StoreError> {
                crate::$backend::workspaces::get_member(self.conn(), org_id, workspace_id, user_id)
                    .await
            }
            async fn list_workspace_members(
                &mut self,
                org_id: Uuid,
                workspace_id: Uuid,
            ) -> Result<Vec<WorkspaceMember>, StoreError> {
                crate::$backend::workspaces::list_members(self.conn(), org_id, workspace_id).await
            }
            async fn upsert_workspace_member(
                &mut self,
                org_id: Uuid,
                member: &WorkspaceMember,
            ) -> Result<(), StoreError> {
                crate::$backend::workspaces::upsert_member(self.conn(), org_id, member).await
            }
            async fn delete_workspace_member(
                &mut self,
                org_id: Uuid,
                workspace_id: Uuid,
                user_id: Uuid,
            ) -> Result<bool, StoreError> {
                crate::$backend::workspaces::delete_member(
                    self.conn(),
                    org_id,
                    workspace_id,
                    user_id,
                )
                .await
            }
            async fn count_workspace_admins(
                &mut self,
                org_id: Uuid,
                workspace_id: Uuid,
            ) -> Result<i64, StoreError> {
                crate::$backend::workspaces::count_admins(self.conn(), org_id, workspace_id).await
            }

            async fn group_exists(
                &mut self,
                org_id: Uuid,
                group_id: Uuid,
            ) -> Result<bool, StoreError> {
                crate::$backend::policies::group_exists(self.conn(), org_id, group_id).await
            }
            async fn group_member_ids(
                &mut self,
                org_id: Uuid,
                group_id: Uuid,
            ) -> Result<Vec<Uuid>, StoreError> {
                crate::$backend::policies::group_member_ids(self.conn(), org_id, group_id).await
            }
            async fn active_admin_ids(&mut self, org_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
                crate::$backend::policies::active_admin_ids(self.conn(), org_id).await
            }

            async fn insert_policy(&mut self, policy: &Policy) -> Result<(), StoreError> {
                crate::$backend::policies::insert(self.conn(), policy).await
            }
            async fn update_policy(
                &mut self,
                policy: &Policy,
                new_version: bool,
            ) -> Result<(), StoreError> {
                crate::$backend::policies::update(self.conn(), policy, new_version).await
            }
            async fn get_policy(
                &mut self,
                org_id: Uuid,
                id: Uuid,
            ) -> Result<Option<Policy>, StoreError> {
                crate::$backend::policies::get(self.conn(), org_id, id).await
            }
            async fn get_policy_steps(
                &mut self,
                org_id: Uuid,
                id: Uuid,
                version: i32,
            ) -> Result<Option<Vec<PolicyStep>>, StoreError> {
                crate::$backend::policies::get_steps(self.conn(), org_id, id, version).await
            }
            async fn list_policies(
                &mut self,
                org_id: Uuid,
                request_type: Option<RequestType>,
                page: PageRequest,
            ) -> Result<Page<Policy>, StoreError> {
                crate::$backend::policies::list(self.conn(), org_id, request_type, page).await
            }
            async fn policy_version_in_use(
                &mut self,
                org_id: Uuid,
                id: Uuid,
                version: i32,
            ) -> Result<bool, StoreError> {
                crate::$backend::policies::version_in_use(self.conn(), org_id, id, version).await
            }
            async fn default_policy(
                &mut self,
                org_id: Uuid,
                request_type: RequestType,
            ) -> Result<Option<Policy>, StoreError> {
                crate::$backend::policies::default_for(self.conn(), org_id, request_type).await
            }
            async fn set_work_app_policy(
                &mut self,
                org_id: Uuid,
                app_id: Uuid,
                request_type: RequestType,
                policy_id: Uuid,
            ) -> Result<(), StoreError> {
                crate::$backend::policies::set_app_policy(
                    self.conn(),
                    org_id,
                    app_id,
                    request_type,
                    policy_id,
                )
                .await
            }
            async fn set_permission_level_policy(
                &mut self,
                org_id: Uuid,
                level_id: Uuid,
                request_type: RequestType,
                policy_id: Uuid,
            ) -> Result<(), StoreError> {
                crate::$backend::policies::set_level_policy(
                    self.conn(),
                    org_id,
                    level_id,
                    request_type,
                    policy_id,
                )
                .await
            }
            async fn assigned_policies(
                &mut self,
                org_id: Uuid,
                app_id: Uuid,
                level_id: Option<Uuid>,
                request_type: RequestType,
            ) -> Result<(Option<Uuid>, Option<Uuid>), StoreError> {
                crate::$backend::policies::assigned(
                    self.conn(),
                    org_id,
                    app_id,
                    level_id,
                    request_type,
                )
                .await
            }

            async fn insert_request(&mut self, request: &Request) -> Result<(), StoreError> {
                crate::$backend::requests::insert_request(self.conn(), request).await
            }
            async fn update_request(&mut self, request: &Request) -> Result<(), StoreError> {
                crate::$backend::requests::update_request(self.conn(), request).await
            }
            async fn get_request(
                &mut self,
                org_id: Uuid,
                id: Uuid,
            ) -> Result<Option<Request>, StoreError> {
                crate::$backend::requests::get_request(self.conn(), org_id, id).await
            }
            async fn list_requests(
                &mut self,
                org_id: Uuid,
                filter: RequestFilter,
                page: PageRequest,
            ) -> Result<Page<Request>, StoreError> {
                crate::$backend::requests::list_requests(self.conn(), org_id, filter, page).await
            }
            async fn insert_task(&mut self, task: &Task) -> Result<(), StoreError> {
                crate::$backend::requests::insert_task(self.conn(), task).await
            }
            async fn get_task(
                &mut self,
                org_id: Uuid,
                id: Uuid,
            ) -> Result<Option<Task>, StoreError> {
                crate::$backend::requests::get_task(self.conn(), org_id, id).await
            }
            async fn decide_task(
                &mut self,
                org_id: Uuid,
                id: Uuid,
                status: TaskStatus,
                decided_by_user_id: Option<Uuid>,
                comment: Option<&str>,
                at: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                crate::$backend::requests::decide_task(
                    self.conn(),
                    org_id,
                    id,
                    status,
                    decided_by_user_id,
                    comment,
                    at,
                )
                .await
            }
            async fn list_tasks(
                &mut self,
                org_id: Uuid,
                filter: TaskFilter,
                page: PageRequest,
            ) -> Result<Page<Task>, StoreError> {
                crate::$backend::requests::list_tasks(self.conn(), org_id, filter, page).await
            }
            async fn request_tasks(
                &mut self,
                org_id: Uuid,
                request_id: Uuid,
            ) -> Result<Vec<Task>, StoreError> {
                crate::$backend::requests::request_tasks(self.conn(), org_id, request_id).await
            }
            async fn cancel_open_tasks(
                &mut self,
                org_id: Uuid,
                request_id: Uuid,
                at: DateTime<Utc>,
            ) -> Result<u64, StoreError> {
                crate::$backend::requests::cancel_open_tasks(self.conn(), org_id, request_id, at)
                    .await
            }

            async fn insert_webhook_event(
                &mut self,
                event: &WebhookEvent,
                dispatched: bool,
            ) -> Result<(), StoreError> {
                crate::$backend::webhooks::insert_event(self.conn(), event, dispatched).await
            }
            async fn insert_webhook_events(
                &mut self,
                events: &[WebhookEvent],
            ) -> Result<(), StoreError> {
                crate::$backend::webhooks::insert_events(self.conn(), events).await
            }
            async fn insert_subscription(
                &mut self,
                sub: &WebhookSubscription,
            ) -> Result<(), StoreError> {
                crate::$backend::webhooks::insert_subscription(self.conn(), sub).await
            }
            async fn list_subscriptions(
                &mut self,
                org_id: Uuid,
            ) -> Result<Vec<WebhookSubscription>, StoreError> {
                crate::$backend::webhooks::list_subscriptions(self.conn(), org_id).await
            }
            async fn get_subscription(
                &mut self,
                org_id: Uuid,
                id: Uuid,
            ) -> Result<Option<WebhookSubscription>, StoreError> {
                crate::$backend::webhooks::get_subscription(self.conn(), org_id, id).await
            }
            async fn delete_subscription(
                &mut self,
                org_id: Uuid,
                id: Uuid,
                at: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                crate::$backend::webhooks::delete_subscription(self.conn(), org_id, id, at).await
            }
            async fn set_subscription_health(
                &mut self,
                id: Uuid,
                enabled: bool,
                failing_since: Option<DateTime<Utc>>,
            ) -> Result<(), StoreError> {
                crate::$backend::webhooks::set_subscription_health(
                    self.conn(),
                    id,
                    enabled,
                    failing_since,
                )
                .await
            }
            async fn dispatch_events(
                &mut self,
                now: DateTime<Utc>,
                limit: u32,
            ) -> Result<u64, StoreError> {
                crate::$backend::webhooks::dispatch_events(self.conn(), now, limit).await
            }
            async fn insert_delivery(&mut self, delivery: &Delivery) -> Result<(), StoreError> {
                crate::$backend::webhooks::insert_delivery(self.conn(), delivery).await
            }
            async fn lease_deliveries(
                &mut self,
                now: DateTime<Utc>,
                lease_until: DateTime<Utc>,
                limit: u32,
            ) -> Result<Vec<DeliveryJob>, StoreError> {
                crate::$backend::webhooks::lease_deliveries(self.conn(), now, lease_until, limit)
                    .await
            }
            async fn finish_attempt(
                &mut self,
                attempt: &DeliveryAttempt,
                status: DeliveryStatus,
                next_attempt_at: Option<DateTime<Utc>>,
            ) -> Result<(), StoreError> {
                crate::$backend::webhooks::finish_attempt(
                    self.conn(),
                    attempt,
                    status,
                    next_attempt_at,
                )
                .await
            }
            async fn list_deliveries(
                &mut self,
                org_id: Uuid,
                subscription_id: Uuid,
                page: PageRequest,
            ) -> Result<Page<(Delivery, Vec<DeliveryAttempt>)>, StoreError> {
                crate::$backend::webhooks::list_deliveries(
                    self.conn(),
                    org_id,
                    subscription_id,
                    page,
                )
                .await
            }
            async fn retry_delivery(
                &mut self,
                org_id: Uuid,
                subscription_id: Uuid,
                delivery_id: Uuid,
                now: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                crate::$backend::webhooks::retry_delivery(
                    self.conn(),
                    org_id,
                    subscription_id,
                    delivery_id,
                    now,
                )
                .await
            }
            async fn get_signing_key(
                &mut self,
                org_id: Uuid,
            ) -> Result<Option<(Vec<u8>, String)>, StoreError> {
                crate::$backend::webhooks::get_signing_key(self.conn(), org_id).await
            }
            async fn insert_signing_key(
                &mut self,
                org_id: Uuid,
                private_key_ciphertext: &[u8],
                public_key_pem: &str,
                at: DateTime<Utc>,
            ) -> Result<(), StoreError> {
                webhooks::insert_signing_key(
                    self.conn(),
                    org_id,
                    private_key_ciphertext,
                    public_key_pem,
                    at,
                )
                .await
            }
            async fn list_audit_events(
                &mut self,
                org_id: Uuid,
                filter: &AuditFilter,
                page: PageRequest,
            ) -> Result<Page<AuditEvent>, StoreError> {
                crate::$backend::webhooks::list_audit_events(self.conn(), org_id, filter, page)
                    .await
            }

            async fn insert_audit_event(&mut self, event: &AuditEvent) -> Result<(), StoreError> {
                crate::$backend::audit::insert(self.conn(), event).await
            }
        }
    };
}

pub(crate) use delegate_tx;
