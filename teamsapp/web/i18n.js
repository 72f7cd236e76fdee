// UI strings, English and Simplified Chinese, chosen from the browser's (or Teams')
// language. Auto-message texts match the product's defaults.
"use strict";
const STRINGS = {
  en: {
    title: "MultiLine", myLink: "My WeChat link", newOptIn: "New opt-in request", admin: "Admin", signOut: "Sign out",
    noThreads: "No WeChat conversations yet.", pickThread: "Select a conversation.",
    addColleague: "Add colleague", leave: "Leave Conversation", leaveTitle: "Leave Conversation",
    leaveConfirm: "Are you sure you want to leave this conversation? Both you and the contact will be told.",
    cancel: "Cancel", close: "Close", send: "Send", typeMessage: "Type a message...", searchColleague: "Search by name",
    you: "You", contact: "Contact", autoMessage: "Auto message to contact",
    st_active: "Active", st_inactive: "Inactive", st_awaiting_opt_in: "Awaiting opt-in", st_closed: "Contact left",
    st_unrouted: "Left", st_left: "Left",
    queuedCount: "{n} queued", sendsLeft: "{n} sends left", until: "until {t}",
    m_sent: "Sent", m_sending: "Sending…", m_queued: "Queued {n} of {N}", m_not_queued: "Not queued: {r}", m_failed: "Not delivered: {r}",
    r_queue_full: "limit of pending messages reached", r_contact_left: "the contact left the conversation",
    r_nobody_left: "nobody is left in the conversation", r_window_closed: "WeChat's 48-hour window had closed",
    r_count_used: "WeChat's message limit was reached", r_session_ended: "the WeChat session had ended",
    r_rejected: "the contact's WeChat refused it", r_transient: "WeChat could not be reached",
    n_not_queued: "Your last message was not queued as the limit of pending messages has been reached",
    n_opt_in_sent: "You've sent the contact an opt-in request. You can send up to 5 messages, and we'll deliver them as soon as the request is accepted.",
    optInTitle: "Opt-in request", optInWaiting: "The link is being created…",
    optInReady: "Send this link (or its QR code) to the contact. When they open it and write, the conversation starts and your queued messages are delivered.",
    linkTitle: "My WeChat link", linkText: "Contacts who come in through this link are routed to you.",
    notInTeams: "Open MultiLine from Microsoft Teams to sign in.", signInFailed: "Sign-in failed: {e}",
    unreachable: "Teams is not delivering MultiLine's messages to your chat ({e}). They are kept: write anything to the MultiLine bot to receive them.",
    noColleagues: "No colleagues found.", liveLost: "Live updates paused; reconnecting…",
    mediaImage: "Image", mediaFile: "File", mediaVoice: "Voice message", mediaVideo: "Video", attachFile: "+ File",
    disabled: "WeChat is disabled for you. Ask your admin to enable it.",
    noteForYou: "Note for you",
  },
  zh: {
    title: "MultiLine", myLink: "我的微信链接", newOptIn: "新的加入请求", admin: "管理", signOut: "退出登录",
    noThreads: "还没有微信对话。", pickThread: "请选择一个对话。",
    addColleague: "添加同事", leave: "退出对话", leaveTitle: "退出对话",
    leaveConfirm: "确定要退出此对话吗？您和联系人都会收到通知。",
    cancel: "取消", close: "关闭", send: "发送", typeMessage: "输入消息…", searchColleague: "按姓名搜索",
    you: "我", contact: "联系人", autoMessage: "发给联系人的自动消息",
    st_active: "活动", st_inactive: "非活动", st_awaiting_opt_in: "等待加入", st_closed: "联系人已退出",
    st_unrouted: "已退出", st_left: "已退出",
    queuedCount: "{n} 条排队", sendsLeft: "还可发送 {n} 条", until: "至 {t}",
    m_sent: "已发送", m_sending: "发送中…", m_queued: "排队中（第 {n} 条，共 {N} 条）", m_not_queued: "未加入队列：{r}", m_failed: "未送达：{r}",
    r_queue_full: "待发送消息已达上限", r_contact_left: "联系人已退出对话",
    r_nobody_left: "对话中已无成员", r_window_closed: "微信的 48 小时时限已过",
    r_count_used: "已达到微信的消息数上限", r_session_ended: "微信会话已结束",
    r_rejected: "联系人的微信拒收了消息", r_transient: "无法连接微信",
    n_not_queued: "由于待发送消息已达上限，您的上一条消息未加入队列",
    n_opt_in_sent: "您已向联系人发送了加入请求。您最多可以发送 5 条消息，我们会在请求被接受后立即送达。",
    optInTitle: "加入请求", optInWaiting: "正在创建链接…",
    optInReady: "请将此链接（或其二维码）发给联系人。对方打开并发消息后，对话即开始，排队的消息也会送达。",
    linkTitle: "我的微信链接", linkText: "通过此链接进来的联系人会分配给您。",
    notInTeams: "请在 Microsoft Teams 中打开 MultiLine 以登录。", signInFailed: "登录失败：{e}",
    unreachable: "Teams 目前无法将 MultiLine 的消息发送到您的聊天（{e}）。消息已保留：向 MultiLine 机器人发送任意内容即可接收。",
    noColleagues: "未找到同事。", liveLost: "实时更新已暂停，正在重新连接…",
    mediaImage: "图片", mediaFile: "文件", mediaVoice: "语音消息", mediaVideo: "视频", attachFile: "+ 文件",
    disabled: "您的微信功能已被停用。请联系管理员启用。",
    noteForYou: "给您的提示",
  },
};

const LANG = /^zh/i.test(navigator.language || "") ? "zh" : "en";

// t returns the UI string key with {placeholders} filled from vars.
function t(key, vars) {
  let s = STRINGS[LANG][key] ?? STRINGS.en[key] ?? key;
  for (const [k, v] of Object.entries(vars || {})) s = s.split("{" + k + "}").join(String(v));
  return s;
}

// translatePage fills elements marked data-i18n / data-i18n-placeholder.
function translatePage(root) {
  document.documentElement.lang = LANG === "zh" ? "zh-CN" : "en";
  for (const el of (root || document).querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of (root || document).querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}
