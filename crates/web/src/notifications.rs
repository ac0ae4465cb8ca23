//! Notifications in the console: `/settings/notifications`, the signed-in person's own choices
//! by category and channel, and `/admin/notifications`, the organization's overrides, reminders,
//! digest and Slack URL (never shown once set).
use std::collections::HashMap;

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use portcullis_api::AppState;
use portcullis_domain::{
    NotificationCategory, NotificationChannel, NotificationPreference, NotificationSettingsPatch,
};
use uuid::Uuid;

use crate::layout::{page, require_admin, ConsoleError};
use crate::session::Session;

fn describe(category: NotificationCategory) -> &'static str {
    match category {
        NotificationCategory::TaskAssigned => "An approval task opens for me",
        NotificationCategory::RequestDecided => "My request is approved or declined",
        NotificationCategory::RequestCompleted => "My request is carried out",
        NotificationCategory::ReviewStarted => "An access review I review in starts",
        NotificationCategory::ReviewDueSoon => {
            "An access review with my undecided items is due soon"
        }
        NotificationCategory::ActionTaskWaiting => "An action task waits for me (app owner)",
        NotificationCategory::TaskReminder => "Reminders of tasks open for a long time",
        NotificationCategory::Digest => "A daily digest of my open tasks",
    }
}

fn field(category: NotificationCategory, channel: NotificationChannel) -> String {
    format!("{}.{}", category.name(), channel.name())
}

/// `GET /settings/notifications`: a checkbox per category and channel.
pub async fn my_preferences(
    State(state): State<AppState>,
    session: Session,
) -> Result<Markup, ConsoleError> {
    let prefs = state.service.notification_preferences(&session.ctx, session.user.id).await?;
    let by_key: HashMap<(NotificationCategory, NotificationChannel), _> =
        prefs.iter().map(|p| ((p.category, p.channel), *p)).collect();
    Ok(page(
        "Notifications",
        Some(&session),
        html! {
            h1 { "Notifications" }
            p { "What you are told about, and where. Your organization may turn some off for everyone or make some mandatory." }
            form.card method="post" action="/settings/notifications" {
                input type="hidden" name="csrf" value=(session.csrf);
                table {
                    thead { tr { th { "When" } @for channel in NotificationChannel::ALL { th { (channel.name()) } } } }
                    tbody {
                        @for category in NotificationCategory::ALL {
                            tr {
                                td { (describe(category)) }
                                @for channel in NotificationChannel::ALL {
                                    @let p = by_key.get(&(category, channel));
                                    td {
                                        label {
                                            input type="checkbox" name=(field(category, channel)) value="on"
                                                checked[p.is_some_and(|p| p.enabled)] disabled[p.is_some_and(|p| p.mandatory)];
                                            @if p.is_some_and(|p| p.mandatory) { " mandatory" }
                                            @else if p.is_some_and(|p| !p.effective && p.enabled) { " off for the organization" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                button type="submit" { "Save" }
            }
        },
    ))
}

/// The form's fields: `csrf` and one `Category.Channel=on` per checked box.
fn choices_from(form: &HashMap<String, String>) -> Vec<NotificationPreference> {
    let mut out = Vec::new();
    for category in NotificationCategory::ALL {
        for channel in NotificationChannel::ALL {
            out.push(NotificationPreference {
                category,
                channel,
                enabled: form.contains_key(&field(category, channel)),
            });
        }
    }
    out
}

/// `POST /settings/notifications`: saves every box (an unchecked box is off; a mandatory one
/// stays delivered whatever it says).
pub async fn save_my_preferences(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, ConsoleError> {
    session.check_csrf(form.get("csrf").map(String::as_str).unwrap_or_default())?;
    let user: Uuid = session.user.id;
    state.service.update_notification_preferences(&session.ctx, user, &choices_from(&form)).await?;
    Ok(Redirect::to("/settings/notifications").into_response())
}

/// `GET /admin/notifications`: the organization's overrides, reminders, digest and Slack.
pub async fn organization(
    State(state): State<AppState>,
    session: Session,
) -> Result<Markup, ConsoleError> {
    require_admin(&session)?;
    let v = state.service.notification_settings(&session.ctx).await?;
    let s = &v.settings;
    Ok(page(
        "Notification settings",
        Some(&session),
        html! {
            h1 { "Notification settings" }
            form.card method="post" action="/admin/notifications" {
                input type="hidden" name="csrf" value=(session.csrf);
                h2 { "Slack" }
                p { @if v.slack_webhook_configured { "A Slack incoming webhook is set (it is never shown again)." } @else { "No Slack incoming webhook is set." } }
                div { label for="slack_webhook_url" { "New Slack incoming-webhook URL (leave empty to keep; tick below to remove)" } input id="slack_webhook_url" name="slack_webhook_url" type="url" autocomplete="off"; }
                div { label { input type="checkbox" name="remove_slack" value="on"; " Remove the Slack webhook" } }
                h2 { "Reminders and digest" }
                div { label for="task_reminder_hours" { "Remind assignees of tasks open longer than (hours, 1–720)" } input id="task_reminder_hours" name="task_reminder_hours" type="number" min="1" max="720" required value=(s.task_reminder_hours); }
                div { label { input type="checkbox" name="digest_enabled" value="on" checked[s.digest_enabled]; " Send each person with open tasks one digest a day" } }
                h2 { "Channels" }
                @for channel in NotificationChannel::ALL {
                    div { label { input type="checkbox" name=(format!("off.{}", channel.name())) value="on" checked[s.disabled_channels.contains(&channel)]; " Turn " (channel.name()) " off for everyone" } }
                }
                h2 { "Categories" }
                table {
                    thead { tr { th { "When" } th { "Off for everyone" } th { "Mandatory" } } }
                    tbody {
                        @for category in NotificationCategory::ALL {
                            tr {
                                td { (describe(category)) }
                                td { input type="checkbox" name=(format!("off.{}", category.name())) value="on" checked[s.disabled_categories.contains(&category)] aria-label=(format!("{} off", category.name())); }
                                td { input type="checkbox" name=(format!("mandatory.{}", category.name())) value="on" checked[s.mandatory_categories.contains(&category)] aria-label=(format!("{} mandatory", category.name())); }
                            }
                        }
                    }
                }
                button type="submit" { "Save" }
            }
        },
    ))
}

/// `POST /admin/notifications`: saves the whole form.
pub async fn save_organization(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, ConsoleError> {
    session.check_csrf(form.get("csrf").map(String::as_str).unwrap_or_default())?;
    require_admin(&session)?;
    let hours =
        form.get("task_reminder_hours").and_then(|h| h.trim().parse::<i64>().ok()).ok_or_else(
            || ConsoleError::new(400, "Give the reminder time as a whole number of hours."),
        )?;
    let url = form.get("slack_webhook_url").map(|u| u.trim()).filter(|u| !u.is_empty());
    let slack_webhook_url = if form.contains_key("remove_slack") {
        Some(None)
    } else {
        url.map(|u| Some(u.to_string()))
    };
    let on = |key: String| form.contains_key(&key);
    let patch = NotificationSettingsPatch {
        slack_webhook_url,
        task_reminder_hours: Some(hours),
        digest_enabled: Some(form.contains_key("digest_enabled")),
        disabled_categories: Some(
            NotificationCategory::ALL
                .into_iter()
                .filter(|c| on(format!("off.{}", c.name())))
                .collect(),
        ),
        disabled_channels: Some(
            NotificationChannel::ALL
                .into_iter()
                .filter(|c| on(format!("off.{}", c.name())))
                .collect(),
        ),
        mandatory_categories: Some(
            NotificationCategory::ALL
                .into_iter()
                .filter(|c| on(format!("mandatory.{}", c.name())))
                .collect(),
        ),
    };
    state.service.update_notification_settings(&session.ctx, patch).await?;
    Ok(Redirect::to("/admin/notifications").into_response())
}
