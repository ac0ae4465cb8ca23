//! `portcullis demo`: an organization full of realistic sample data, with a progress bar.
use indicatif::{ProgressBar, ProgressStyle};
use portcullis_domain::workapp::GrantEntry;
use portcullis_domain::{DefaultWorkApp, OrgRole, ProvisioningMode, RequestType, UserStatus};
use portcullis_service::{
    Actor, ActorKind, Ctx, NewPermissionLevel, NewRequest, NewUser, NewWorkApp, Service,
};

const FIRST: &[&str] = &[
    "Ada",
    "Grace",
    "Alan",
    "Katherine",
    "Linus",
    "Barbara",
    "Dennis",
    "Margaret",
    "Ken",
    "Frances",
    "Edsger",
    "Radia",
    "Tim",
    "Hedy",
    "John",
    "Sophie",
    "Guido",
    "Anita",
    "Bjarne",
    "Shafi",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Turing",
    "Johnson",
    "Torvalds",
    "Liskov",
    "Ritchie",
    "Hamilton",
    "Thompson",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "McCarthy",
    "Wilson",
    "Rossum",
    "Borg",
    "Stroustrup",
    "Goldwasser",
];
const APPS: &[(&str, &str, &[&str])] = &[
    ("Slack", "Team chat", &["Member", "Admin"]),
    ("GitHub", "Code hosting", &["Read", "Write", "Maintain", "Admin"]),
    ("Jira", "Issue tracking", &["Viewer", "User", "Project admin"]),
    ("Confluence", "Team wiki", &["Viewer", "Editor"]),
    ("Figma", "Design", &["Viewer", "Editor"]),
    ("Salesforce", "CRM", &["Standard", "Manager", "System admin"]),
    ("Google Workspace", "Mail, calendar, documents", &["User", "Admin"]),
    ("Zoom", "Video meetings", &[]),
    ("Notion", "Notes and docs", &["Member", "Admin"]),
    ("AWS", "Cloud infrastructure", &["ReadOnly", "Developer", "Administrator"]),
    ("Datadog", "Monitoring", &["Read only", "Standard", "Admin"]),
    ("PagerDuty", "On-call", &["Responder", "Manager"]),
    ("HubSpot", "Marketing", &["Contributor", "Admin"]),
    ("Workday", "HR", &["Employee", "HR partner"]),
    ("NetSuite", "Finance", &["Clerk", "Controller"]),
    ("Okta", "Identity", &["User", "Super admin"]),
    ("1Password", "Passwords", &["Member", "Owner"]),
    ("Miro", "Whiteboards", &[]),
    ("Asana", "Projects", &["Member", "Admin"]),
    ("Zendesk", "Support", &["Agent", "Admin"]),
];
const TEAMS: &[&str] = &[
    "Engineering",
    "Platform",
    "Security",
    "Data",
    "Design",
    "Product",
    "Sales",
    "Marketing",
    "Support",
    "Finance",
    "People",
    "Legal",
    "IT",
    "Operations",
    "Mobile",
    "Web",
    "Infrastructure",
    "Research",
    "Partnerships",
    "Leadership",
];

/// What the demo made: tokens for an administrator and an employee.
pub struct DemoOutput {
    pub organization: uuid::Uuid,
    pub admin_token: String,
    pub employee_token: String,
    pub employee_name: String,
    /// The organization's read-write API credential.
    pub api_key: String,
    pub api_secret: String,
}

pub async fn fill(service: &Service, users: usize) -> Result<DemoOutput, String> {
    let e = |e: portcullis_service::ServiceError| e.to_string();
    let out = service
        .init_organization("Demo Corp", "it-admin@demo.example", "Ines Admin")
        .await
        .map_err(e)?;
    let ctx = Ctx::new(Actor { org_id: out.organization_id, kind: ActorKind::System }, None);
    let steps = (users + APPS.len() * 2 + TEAMS.len() * 2 + 60) as u64;
    let bar = ProgressBar::new(steps);
    bar.set_style(
        ProgressStyle::with_template("{msg:>22} [{bar:40}] {pos}/{len} {elapsed}")
            .map_err(|e| e.to_string())?
            .progress_chars("=> "),
    );

    bar.set_message("users");
    let mut people = Vec::with_capacity(users);
    for i in 0..users {
        let first_name = FIRST[i % FIRST.len()].to_string();
        let last_name = LAST[(i / FIRST.len()) % LAST.len()].to_string();
        let manager = (i >= 20).then(|| people.get(i % 20).copied()).flatten();
        let role = match i {
            0 => OrgRole::Administrator,
            1..=4 => OrgRole::Workspaces,
            _ => OrgRole::User,
        };
        let email =
            format!("{}.{}.{i}@demo.example", first_name.to_lowercase(), last_name.to_lowercase());
        let user = service
            .create_user(
                &ctx,
                NewUser {
                    first_name,
                    last_name,
                    email,
                    manager_id: manager,
                    role: Some(role),
                    status: UserStatus::Active,
                },
            )
            .await
            .map_err(e)?;
        people.push(user.id);
        bar.inc(1);
    }

    bar.set_message("apps and levels");
    let mut apps = Vec::new();
    for (round, suffix) in ["", " (EU)"].iter().enumerate() {
        for (i, (name, description, levels)) in APPS.iter().enumerate() {
            let owner = people[(i * 7 + round) % people.len().max(1)];
            let app = service
                .create_work_app(
                    &ctx,
                    NewWorkApp {
                        name: format!("{name}{suffix}"),
                        description: Some(description.to_string()),
                        owner_ids: vec![owner],
                        provisioning_mode: Some(if i % 3 == 0 {
                            ProvisioningMode::Manual
                        } else {
                            ProvisioningMode::Automatic
                        }),
                        ..NewWorkApp::default()
                    },
                )
                .await
                .map_err(e)?;
            let mut level_ids = Vec::new();
            for (l, level) in levels.iter().enumerate() {
                let created = service
                    .create_permission_level(
                        &ctx,
                        app.app.id,
                        NewPermissionLevel {
                            name: level.to_string(),
                            description: None,
                            is_default: l == 0,
                            is_privileged: l + 1 == levels.len() && levels.len() > 1,
                        },
                    )
                    .await
                    .map_err(e)?;
                level_ids.push(created.id);
            }
            apps.push((app.app.id, level_ids));
            bar.inc(1);
        }
    }

    bar.set_message("groups");
    for (t, team) in TEAMS.iter().enumerate() {
        let group =
            service.create_group(&ctx, team, Some(&format!("The {team} team"))).await.map_err(e)?;
        let defaults: Vec<DefaultWorkApp> = (0..3)
            .map(|k| {
                let (app, levels) = &apps[(t * 3 + k) % apps.len()];
                DefaultWorkApp { work_app_id: *app, permission_level_id: levels.first().copied() }
            })
            .collect();
        service.set_group_default_apps(&ctx, group.id, &defaults).await.map_err(e)?;
        let hidden = vec![apps[(t * 5 + 7) % apps.len()].0];
        service.set_group_hidden_apps(&ctx, group.id, &hidden).await.map_err(e)?;
        bar.inc(1);
        let members: Vec<uuid::Uuid> = people
            .iter()
            .copied()
            .skip(5)
            .filter(|u| u.as_u128() as usize % TEAMS.len() == t)
            .collect();
        if !members.is_empty() {
            service.add_group_members(&ctx, group.id, &members, None, true).await.map_err(e)?;
        }
        bar.inc(1);
    }

    bar.set_message("direct accesses");
    let entries: Vec<GrantEntry> = people
        .iter()
        .enumerate()
        .take(users.min(200))
        .map(|(i, u)| {
            let (app, levels) = &apps[i % apps.len()];
            GrantEntry {
                work_app_id: *app,
                user_id: *u,
                permission_level_id: levels.first().copied(),
                expires_at: None,
            }
        })
        .collect();
    if !entries.is_empty() {
        service.grant_accesses(&ctx, &entries).await.map_err(e)?;
    }

    bar.set_message("pending requests");
    let mut pending = 0;
    for (i, user) in people.iter().enumerate().skip(20) {
        if pending >= 40 {
            break;
        }
        let (app, levels) = &apps[(i * 11) % apps.len()];
        let request = NewRequest {
            request_type: RequestType::GrantAccess,
            work_app_id: *app,
            target_user_id: Some(*user),
            permission_level_id: levels.last().copied(),
            created_by_user_id: Some(*user),
            justification: Some("Needed for the Q3 project".into()),
            expires_at: None,
        };
        if service.create_request(&ctx, request).await.is_ok() {
            pending += 1;
        }
        bar.inc(1);
    }
    bar.finish_with_message("done");

    let admin = out.owner_token;
    let employee_id = people.get(25).copied().ok_or("not enough users for an employee")?;
    let employee = service.get_user(&ctx, employee_id).await.map_err(e)?;
    let token = service.create_user_token(&ctx, employee_id, "demo", None).await.map_err(e)?;
    Ok(DemoOutput {
        organization: out.organization_id,
        admin_token: admin,
        employee_token: token.value,
        employee_name: employee.full_name(),
        api_key: out.api_key,
        api_secret: out.api_secret,
    })
}
