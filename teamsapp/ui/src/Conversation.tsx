import {
  Avatar,
  Badge,
  Body1,
  Button,
  Caption1,
  Image,
  Link,
  makeStyles,
  Menu,
  MenuItem,
  MenuList,
  MenuPopover,
  MenuTrigger,
  MessageBar,
  MessageBarBody,
  mergeClasses,
  Subtitle2,
  Text,
  Textarea,
  tokens,
} from "@fluentui/react-components";
import {
  ArrowLeftRegular,
  AttachRegular,
  BotRegular,
  DismissRegular,
  DocumentRegular,
  DoorArrowLeftRegular,
  InfoRegular,
  MoreHorizontalRegular,
  PersonAddRegular,
  SendRegular,
} from "@fluentui/react-icons";
import { useEffect, useLayoutEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import type { Message, ThreadDetail } from "./api";
import { avatarImage, composerState, countdown, fullTime, mediaLabel, messageStatus, statusBadge, timeLabel, withSyntheticNotes } from "./format";
import { t } from "./i18n";
import { LinkPanel } from "./LinkPanel";
import { WeChatMark } from "./WeChatMark";

const useStyles = makeStyles({
  root: { display: "flex", flexDirection: "column", minHeight: 0, minWidth: 0, height: "100%", backgroundColor: tokens.colorNeutralBackground2 },
  head: {
    display: "flex",
    alignItems: "center",
    gap: "8px",
    padding: "8px 12px",
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
    backgroundColor: tokens.colorNeutralBackground1,
    minWidth: 0,
  },
  who: { display: "flex", flexDirection: "column", minWidth: 0, flex: 1 },
  nameRow: { display: "flex", alignItems: "center", gap: "6px", minWidth: 0 },
  name: { overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap", margin: 0 },
  people: { color: tokens.colorNeutralForeground2, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" },
  strip: { padding: "4px 12px", backgroundColor: tokens.colorNeutralBackground1, borderBottom: `1px solid ${tokens.colorNeutralStroke2}`, color: tokens.colorNeutralForeground2 },
  urgent: { color: tokens.colorPaletteRedForeground1, fontWeight: tokens.fontWeightSemibold },
  scroller: { flex: 1, minHeight: 0, overflowY: "auto", overflowX: "hidden", padding: "12px", ":focus-visible": { outline: `2px solid ${tokens.colorStrokeFocus2}`, outlineOffset: "-2px" } },
  list: { listStyle: "none", margin: 0, padding: 0, display: "flex", flexDirection: "column", gap: "10px" },
  row: { display: "flex", gap: "8px", alignItems: "flex-end", maxWidth: "100%" },
  theirs: { alignSelf: "flex-start", maxWidth: "min(85%, 640px)" },
  ours: { alignSelf: "flex-end", flexDirection: "row-reverse", maxWidth: "min(85%, 640px)" },
  auto: { alignSelf: "center", width: "min(100%, 560px)" },
  bubbleCol: { display: "flex", flexDirection: "column", gap: "2px", minWidth: 0 },
  oursCol: { alignItems: "flex-end" },
  bubble: {
    padding: "8px 12px",
    borderRadius: tokens.borderRadiusLarge,
    backgroundColor: tokens.colorNeutralBackground1,
    color: tokens.colorNeutralForeground1,
    overflowWrap: "anywhere",
    whiteSpace: "pre-wrap",
    boxShadow: tokens.shadow2,
    border: `1px solid ${tokens.colorTransparentStroke}`,
    minWidth: 0,
    maxWidth: "100%",
  },
  mine: { backgroundColor: tokens.colorBrandBackground2, boxShadow: "none" },
  colleague: { backgroundColor: tokens.colorNeutralBackground1, border: `1px solid ${tokens.colorBrandStroke2}`, boxShadow: "none" },
  meta: { color: tokens.colorNeutralForeground2, display: "flex", gap: "6px", flexWrap: "wrap" },
  status: { color: tokens.colorNeutralForeground2 },
  statusBad: { color: tokens.colorPaletteRedForeground1 },
  notice: {
    display: "flex",
    flexDirection: "column",
    gap: "2px",
    padding: "8px 12px",
    borderRadius: tokens.borderRadiusMedium,
    border: `1px dashed ${tokens.colorNeutralStroke1}`,
    color: tokens.colorNeutralForeground1,
    backgroundColor: tokens.colorNeutralBackground3,
    overflowWrap: "anywhere",
  },
  note: { border: `1px solid ${tokens.colorPaletteYellowBorder2}`, backgroundColor: tokens.colorPaletteYellowBackground1 },
  noticeLabel: { display: "flex", alignItems: "center", gap: "4px", color: tokens.colorNeutralForeground2, fontWeight: tokens.fontWeightSemibold },
  media: { display: "flex", flexDirection: "column", gap: "4px", marginBottom: "4px" },
  // A tiny image (an icon, a sticker) still shows as an attachment, on a box of its own.
  img: { maxWidth: "min(100%, 280px)", maxHeight: "280px", minWidth: "64px", minHeight: "64px", objectFit: "contain", backgroundColor: tokens.colorNeutralBackground3, borderRadius: tokens.borderRadiusMedium, display: "block" },
  video: { maxWidth: "min(100%, 320px)", maxHeight: "240px", borderRadius: tokens.borderRadiusMedium },
  audio: { maxWidth: "100%", width: "260px" },
  file: { display: "inline-flex", alignItems: "center", gap: "6px" },
  composer: { display: "flex", flexDirection: "column", gap: "6px", padding: "8px 12px 12px", backgroundColor: tokens.colorNeutralBackground1, borderTop: `1px solid ${tokens.colorNeutralStroke2}` },
  composeRow: { display: "flex", gap: "6px", alignItems: "flex-end" },
  textarea: { flex: 1, minWidth: 0 },
  chip: { display: "flex", alignItems: "center", gap: "8px", padding: "4px 8px", borderRadius: tokens.borderRadiusMedium, backgroundColor: tokens.colorNeutralBackground3, minWidth: 0 },
  chipName: { overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap", flex: 1, minWidth: 0 },
  thumb: { width: "40px", height: "40px", objectFit: "cover", borderRadius: tokens.borderRadiusSmall },
  hidden: { display: "none" },
  // On a phone the hint keeps to two lines, so the conversation keeps its room;
  // the whole text stays in the page for screen readers and in the title.
  hint: { "@media (max-width: 699px)": { "& .fui-MessageBarBody": { display: "-webkit-box", WebkitLineClamp: 2, WebkitBoxOrient: "vertical", overflow: "hidden" } } },
});

export interface ConversationProps {
  th: ThreadDetail;
  /** meId is the signed-in employee's id: their own messages are told by it. */
  meId: string;
  serverOffset: number;
  tick: number;
  narrow: boolean;
  showDetailsButton: boolean;
  onBack(): void;
  onDetails(): void;
  onAddColleague(): void;
  onLeave(): void;
  onSend(text: string, file: File | null): Promise<boolean>;
  onSeen(lastId: string): void;
}

/** Conversation is one thread as the guide shows it: bubbles both sides, the
 * automatic messages inline, each message's status, the window's countdown, and
 * a composer that says why it queues or is disabled. */
export function Conversation(p: ConversationProps) {
  const s = useStyles();
  const { th } = p;
  const now = p.tick + p.serverOffset;
  const badge = statusBadge(th.status);
  const cd = countdown(th, now);
  const people = th.people.map((x) => (x.me ? t("you") : x.name)).join(", ");
  const messages = useMemo(() => withSyntheticNotes(th.messages || []), [th.messages]);
  const scroller = useRef<HTMLDivElement>(null);
  const lastId = th.messages?.length ? th.messages[th.messages.length - 1].id : "";
  const pinned = useRef(true);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [messages.length, th.id]);
  useEffect(() => {
    pinned.current = true;
  }, [th.id]);
  useEffect(() => {
    if (lastId) p.onSeen(lastId);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [lastId, th.id]);

  let strip: { text: string; urgent: boolean } | null = cd;
  if (!strip && th.status === "inactive") strip = { text: t("w_inactive"), urgent: false };
  if (!strip && th.status === "closed") strip = { text: t("w_closed"), urgent: false };

  return (
    <section className={s.root} aria-label={t("conversationWith", { name: th.consumer_name })} data-testid="conversation" data-thread={th.id}>
      <header className={s.head}>
        {p.narrow ? <Button appearance="subtle" icon={<ArrowLeftRegular />} aria-label={t("back")} title={t("back")} onClick={p.onBack} data-testid="back" /> : null}
        {p.narrow ? null : <Avatar name={th.consumer_name} color="colorful" size={32} aria-hidden />}
        <div className={s.who}>
          <div className={s.nameRow}>
            <WeChatMark size={16} />
            <Subtitle2 as="h2" className={s.name} data-testid="thread-name">
              {th.consumer_name}
            </Subtitle2>
            <Badge appearance="tint" color={badge.color} size="small" data-testid="thread-status" data-status={th.status}>
              {badge.label}
            </Badge>
          </div>
          <Caption1 className={s.people} title={people}>
            {people}
          </Caption1>
        </div>
        {p.showDetailsButton ? <Button appearance="subtle" icon={<InfoRegular />} aria-label={t("details")} title={t("details")} onClick={p.onDetails} data-testid="details" /> : null}
        <Menu>
          <MenuTrigger disableButtonEnhancement>
            <Button appearance="subtle" icon={<MoreHorizontalRegular />} aria-label={t("messageMenu")} title={t("messageMenu")} data-testid="message-menu" />
          </MenuTrigger>
          <MenuPopover>
            <MenuList>
              <MenuItem icon={<PersonAddRegular />} onClick={p.onAddColleague} disabled={th.people.length >= th.max_participants} data-testid="menu-add">
                {t("addColleague")}
              </MenuItem>
              <MenuItem icon={<InfoRegular />} onClick={p.onDetails} data-testid="menu-details">
                {t("details")}
              </MenuItem>
              <MenuItem icon={<DoorArrowLeftRegular />} onClick={p.onLeave} data-testid="menu-leave">
                {t("leave")}
              </MenuItem>
            </MenuList>
          </MenuPopover>
        </Menu>
      </header>
      {strip ? (
        <div className={s.strip} data-testid="window">
          <Caption1 className={strip.urgent ? s.urgent : undefined} data-urgent={strip.urgent || undefined}>
            {strip.text}
          </Caption1>
        </div>
      ) : null}
      <div ref={scroller} className={s.scroller} tabIndex={0} role="log" aria-label={t("messagesLog")} onScroll={(e) => {
        const el = e.currentTarget;
        pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48;
      }}>
        {th.status === "awaiting_opt_in" ? <LinkPanel kind="optin" link={th.opt_in_link} qr={th.opt_in_qr} thread={th} /> : null}
        <ol className={s.list} data-testid="messages">
          {messages.map((m) => (
            <MessageItem key={m.id} m={m} th={th} meId={p.meId} />
          ))}
        </ol>
      </div>
      <Composer th={th} now={now} onSend={p.onSend} />
    </section>
  );
}

function MessageItem({ m, th, meId }: { m: Message; th: ThreadDetail; meId: string }) {
  const s = useStyles();
  const when = (
    <Caption1 as="span">
      <time dateTime={m.at} title={fullTime(m.at)}>
        {timeLabel(m.at)}
      </time>
    </Caption1>
  );
  if (m.from === "system" || m.from === "employee_note") {
    const toYou = m.from === "employee_note";
    return (
      <li className={s.auto} data-from={m.from} data-notice={m.notice || ""} data-id={m.id}>
        <div className={mergeClasses(s.notice, toYou && s.note)}>
          <Caption1 className={s.noticeLabel}>
            <BotRegular aria-hidden /> {toYou ? t("autoToYou") : t("autoToContact")} · {when}
          </Caption1>
          <Body1>{m.text}</Body1>
          {m.status === "failed" && m.reason && !toYou ? <Caption1 className={s.statusBad}>{messageStatus(m, th.queue_limit)}</Caption1> : null}
        </div>
      </li>
    );
  }
  const consumer = m.from === "consumer";
  const mine = !consumer && !!meId && m.author === meId;
  const author = consumer ? th.consumer_name : mine ? t("you") : m.author_name || "";
  const status = consumer ? "" : messageStatus(m, th.queue_limit);
  const bad = m.status === "failed" || m.status === "not_queued" || m.status === "blocked";
  return (
    <li className={mergeClasses(s.row, consumer ? s.theirs : s.ours)} data-from={m.from} data-status={m.status} data-id={m.id} data-mine={mine || undefined}>
      {consumer ? <Avatar name={th.consumer_name} image={avatarImage(th.consumer_avatar_url)} size={24} color="colorful" aria-hidden /> : null}
      <div className={mergeClasses(s.bubbleCol, !consumer && s.oursCol)}>
        <Caption1 className={s.meta}>
          <span>{author}</span>
          {when}
        </Caption1>
        <div className={mergeClasses(s.bubble, mine && s.mine, !consumer && !mine && s.colleague)}>
          {m.media ? <MediaView media={m.media} /> : null}
          {m.text ? <span data-testid="text">{m.text}</span> : null}
        </div>
        {mine && m.original ? (
          <Caption1 className={s.status} data-testid="original">
            {t("m_redacted", { o: m.original })}
          </Caption1>
        ) : null}
        {status ? (
          <Caption1 className={bad ? s.statusBad : s.status} data-testid="status">
            {status}
          </Caption1>
        ) : null}
      </div>
    </li>
  );
}

function MediaView({ media }: { media: NonNullable<Message["media"]> }) {
  const s = useStyles();
  const name = media.file_name || mediaLabel(media.kind);
  const link = (
    <Link href={media.url} download={media.file_name || ""} className={s.file} aria-label={t("download", { name })}>
      <DocumentRegular aria-hidden /> {name}
    </Link>
  );
  switch (media.kind) {
    case "image":
      return (
        <div className={s.media}>
          <a href={media.url} target="_blank" rel="noopener noreferrer" aria-label={name}>
            <Image src={media.url} alt={media.file_name || t("image")} className={s.img} loading="lazy" />
          </a>
        </div>
      );
    case "voice":
      return (
        <div className={s.media}>
          <audio src={media.url} controls preload="none" className={s.audio} aria-label={name} />
          {link}
        </div>
      );
    case "video":
      return (
        <div className={s.media}>
          <video src={media.url} controls preload="metadata" className={s.video} aria-label={name} />
          {link}
        </div>
      );
  }
  return <div className={s.media}>{link}</div>;
}

function Composer({ th, now, onSend }: { th: ThreadDetail; now: number; onSend(text: string, file: File | null): Promise<boolean> }) {
  const s = useStyles();
  const st = composerState(th, now);
  const [text, setText] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const thumb = useMemo(() => (file && file.type.startsWith("image/") ? URL.createObjectURL(file) : ""), [file]);
  useEffect(() => () => (thumb ? URL.revokeObjectURL(thumb) : undefined), [thumb]);
  useEffect(() => {
    setText("");
    setFile(null);
  }, [th.id]);

  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    if (busy || st.disabled || (!text.trim() && !file)) return;
    setBusy(true);
    const ok = await onSend(text, st.noFiles ? null : file);
    setBusy(false);
    if (ok) {
      setText("");
      setFile(null);
      if (input.current) input.current.value = "";
    }
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void submit();
    }
  };
  const hintId = "composer-hint-" + th.id;
  return (
    <form className={s.composer} onSubmit={submit} aria-label={t("message")}>
      {st.hint ? (
        <MessageBar intent={st.intent} id={hintId} data-testid="composer-hint" className={s.hint} title={st.hint}>
          <MessageBarBody>{st.hint}</MessageBarBody>
        </MessageBar>
      ) : null}
      {file ? (
        <div className={s.chip} data-testid="attachment">
          {thumb ? <img src={thumb} alt="" className={s.thumb} /> : <DocumentRegular aria-hidden />}
          <Text className={s.chipName}>
            {file.name} · {Math.max(1, Math.round(file.size / 1024))} KB
          </Text>
          <Button appearance="subtle" size="small" icon={<DismissRegular />} aria-label={t("removeAttachment")} title={t("removeAttachment")} onClick={() => {
            setFile(null);
            if (input.current) input.current.value = "";
          }} />
        </div>
      ) : null}
      <div className={s.composeRow}>
        <Textarea
          className={s.textarea}
          value={text}
          onChange={(_, d) => setText(d.value)}
          onKeyDown={onKey}
          placeholder={t("typeMessage")}
          aria-label={t("message")}
          aria-describedby={st.hint ? hintId : undefined}
          disabled={st.disabled}
          resize="vertical"
          rows={2}
          textarea={{ "data-testid": "composer-text" } as object}
        />
        <input ref={input} type="file" className={s.hidden} tabIndex={-1} aria-hidden onChange={(e) => setFile(e.target.files?.[0] || null)} data-testid="file-input" />
        <Button
          appearance="subtle"
          icon={<AttachRegular />}
          aria-label={t("attach")}
          title={t("attach")}
          disabled={st.disabled || st.noFiles}
          onClick={() => input.current?.click()}
          data-testid="attach"
        />
        <Button appearance="primary" icon={<SendRegular />} type="submit" disabled={st.disabled || busy || (!text.trim() && !file)} data-testid="send">
          {t("send")}
        </Button>
      </div>
    </form>
  );
}
