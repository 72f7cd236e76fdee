import { Badge, Caption1, CounterBadge, makeStyles, mergeClasses, SearchBox, Tab, TabList, Text, tokens } from "@fluentui/react-components";
import type { ThreadSummary } from "./api";
import { t } from "./i18n";
import { previewText, statusBadge, timeLabel } from "./format";
import { WeChatMark } from "./WeChatMark";

const useStyles = makeStyles({
  root: { display: "flex", flexDirection: "column", minHeight: 0, minWidth: 0, height: "100%" },
  tools: { display: "flex", flexDirection: "column", gap: "8px", padding: "12px 12px 8px" },
  search: { width: "100%", maxWidth: "none" },
  list: { listStyle: "none", margin: 0, padding: "0 4px 8px", overflowY: "auto", flex: 1, minHeight: 0 },
  item: {
    display: "grid",
    gridTemplateColumns: "auto minmax(0, 1fr) auto",
    columnGap: "8px",
    rowGap: "2px",
    alignItems: "center",
    width: "100%",
    textAlign: "start",
    border: "none",
    borderRadius: tokens.borderRadiusMedium,
    padding: "8px",
    background: "transparent",
    color: tokens.colorNeutralForeground1,
    font: "inherit",
    cursor: "pointer",
    ":hover": { backgroundColor: tokens.colorNeutralBackground1Hover, color: tokens.colorNeutralForeground1Hover, "& .ml-sub": { color: tokens.colorNeutralForeground2Hover } },
    ":focus-visible": { outline: `2px solid ${tokens.colorStrokeFocus2}`, outlineOffset: "-2px" },
  },
  selected: {
    backgroundColor: tokens.colorNeutralBackground1Selected,
    color: tokens.colorNeutralForeground1Selected,
    "& .ml-sub": { color: tokens.colorNeutralForeground2Selected },
    ":hover": { backgroundColor: tokens.colorNeutralBackground1Selected },
  },
  name: { overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" },
  unreadName: { fontWeight: tokens.fontWeightBold },
  when: { color: tokens.colorNeutralForeground2, whiteSpace: "nowrap" },
  preview: { gridColumn: "2 / 3", overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap", color: tokens.colorNeutralForeground2 },
  previewUnread: { color: tokens.colorNeutralForeground1, fontWeight: tokens.fontWeightSemibold },
  badges: { gridColumn: "2 / 4", display: "flex", flexWrap: "wrap", gap: "4px" },
  end: { justifySelf: "end" },
  empty: { padding: "16px", color: tokens.colorNeutralForeground2 },
  sr: { position: "absolute", width: "1px", height: "1px", overflow: "hidden", clip: "rect(0 0 0 0)", whiteSpace: "nowrap" },
});

export interface InboxProps {
  threads: ThreadSummary[] | null;
  current: string | null;
  query: string;
  needsAnswer: boolean;
  unreadKept: boolean;
  recentSearch: boolean;
  onQuery(q: string): void;
  onNeedsAnswer(v: boolean): void;
  onOpen(id: string): void;
}

/** Inbox is the thread list with search and the "needs an answer" filter. */
export function Inbox(p: InboxProps) {
  const s = useStyles();
  const empty = p.threads !== null && p.threads.length === 0;
  return (
    <nav className={s.root} aria-label={t("threads")}>
      <div className={s.tools}>
        <SearchBox
          className={s.search}
          value={p.query}
          onChange={(_, d) => p.onQuery(d.value)}
          placeholder={t("search")}
          aria-label={t("search")}
          input={{ "data-testid": "search" } as object}
        />
        <TabList size="small" selectedValue={p.needsAnswer ? "needs" : "all"} onTabSelect={(_, d) => p.onNeedsAnswer(d.value === "needs")} aria-label={t("filters")}>
          <Tab value="all">{t("filterAll")}</Tab>
          <Tab value="needs" data-testid="filter-needs-answer">
            {t("filterNeedsAnswer")}
          </Tab>
        </TabList>
        {p.query.trim() && p.recentSearch ? <Caption1>{t("searchRecent")}</Caption1> : null}
      </div>
      {empty ? <Text className={s.empty}>{p.query.trim() || p.needsAnswer ? t("noMatches") : t("noThreads")}</Text> : null}
      <ul className={s.list} data-testid="thread-list">
        {(p.threads || []).map((th) => (
          <li key={th.id}>
            <ThreadItem th={th} selected={th.id === p.current} unreadKept={p.unreadKept} onOpen={p.onOpen} />
          </li>
        ))}
      </ul>
    </nav>
  );
}

function ThreadItem({ th, selected, unreadKept, onOpen }: { th: ThreadSummary; selected: boolean; unreadKept: boolean; onOpen(id: string): void }) {
  const s = useStyles();
  const badge = statusBadge(th.status);
  const unread = unreadKept ? th.unread : 0;
  const preview = previewText(th.preview, th.status === "awaiting_opt_in" ? t("w_awaiting") : "");
  return (
    <button
      type="button"
      className={mergeClasses(s.item, selected && s.selected)}
      onClick={() => onOpen(th.id)}
      aria-current={selected ? "true" : undefined}
      data-thread={th.id}
      data-unread={unread}
    >
      <WeChatMark size={20} />
      <Text className={mergeClasses(s.name, unread > 0 && s.unreadName)}>{th.consumer_name}</Text>
      <Caption1 className={mergeClasses("ml-sub", s.when)}>{timeLabel(th.preview?.at || th.last_at)}</Caption1>
      <Caption1 className={mergeClasses("ml-sub", s.preview, unread > 0 && s.previewUnread)} data-testid="preview">
        {preview}
      </Caption1>
      <span className={s.end}>
        {unread > 0 ? (
          <>
            <CounterBadge count={unread} size="small" aria-hidden data-testid="unread" />
            <span className={s.sr}>{t("unread", { n: unread })}</span>
          </>
        ) : null}
      </span>
      <span className={s.badges}>
        <Badge appearance="tint" color={badge.color} size="small" data-status={th.status}>
          {badge.label}
        </Badge>
        {th.queued > 0 ? (
          <Badge appearance="tint" color="informative" size="small" data-testid="queued">
            {t("queuedN", { n: th.queued })}
          </Badge>
        ) : null}
        {th.needs_answer ? (
          <Badge appearance="outline" color="brand" size="small" data-testid="needs-answer">
            {t("needsAnswer")}
          </Badge>
        ) : null}
      </span>
    </button>
  );
}
