import { Avatar, Badge, Body1, Button, Caption1, makeStyles, Subtitle1, Subtitle2, tokens } from "@fluentui/react-components";
import { DismissRegular, PersonAddRegular, PersonDeleteRegular } from "@fluentui/react-icons";
import type { ThreadDetail } from "./api";
import { avatarImage, statusBadge } from "./format";
import { t } from "./i18n";
import { WeChatMark } from "./WeChatMark";

const useStyles = makeStyles({
  // The drawer's whole width (at 768 px it shrank to its content in zh-CN).
  root: { display: "flex", flexDirection: "column", gap: "16px", padding: "16px", width: "100%", minWidth: 0, overflowY: "auto", height: "100%", boxSizing: "border-box", backgroundColor: tokens.colorNeutralBackground1 },
  top: { display: "flex", justifyContent: "space-between", alignItems: "center", gap: "8px" },
  card: { display: "flex", flexDirection: "column", alignItems: "center", gap: "8px", textAlign: "center" },
  name: { overflowWrap: "anywhere" },
  row: { display: "flex", alignItems: "center", gap: "8px", flexWrap: "wrap", justifyContent: "center" },
  open: { display: "flex", alignItems: "center", gap: "8px" },
  section: { display: "flex", flexDirection: "column", gap: "6px" },
  people: { listStyle: "none", margin: 0, padding: 0, display: "flex", flexDirection: "column", gap: "4px" },
  person: { display: "flex", alignItems: "center", gap: "8px", minWidth: 0 },
  personName: { flex: 1, minWidth: 0, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" },
  muted: { color: tokens.colorNeutralForeground2 },
});

export interface DetailsProps {
  th: ThreadDetail;
  onOpen(): void;
  onClose?(): void;
  onAdd(): void;
  onRemove(id: string, name: string): void;
}

/** Details is the contact details pane: the WeChat icon, the consumer's name and
 * avatar, the participants (with the cap), the opt-in state, and a button that
 * opens the conversation. */
export function Details({ th, onOpen, onClose, onAdd, onRemove }: DetailsProps) {
  const s = useStyles();
  const badge = statusBadge(th.status);
  const full = th.people.length >= th.max_participants;
  return (
    <aside className={s.root} aria-label={t("details")} data-testid="details-pane">
      <div className={s.top}>
        <Subtitle2 as="h2">{t("details")}</Subtitle2>
        {onClose ? <Button appearance="subtle" icon={<DismissRegular />} aria-label={t("close")} title={t("close")} onClick={onClose} /> : null}
      </div>
      <div className={s.card}>
        <Avatar name={th.consumer_name} image={avatarImage(th.consumer_avatar_url)} size={72} color="colorful" aria-hidden data-testid="consumer-avatar" />
        <Subtitle1 as="p" className={s.name}>
          {th.consumer_name}
        </Subtitle1>
        <div className={s.row}>
          <Badge appearance="tint" color={badge.color}>
            {badge.label}
          </Badge>
        </div>
        <Button appearance="secondary" onClick={onOpen} icon={<WeChatMark size={20} decorative />} data-testid="open-conversation">
          {t("openConversation")}
        </Button>
      </div>
      <div className={s.section}>
        <Subtitle2 as="h3">{t("optIn")}</Subtitle2>
        <Body1 data-testid="opt-in-state">{th.status === "awaiting_opt_in" ? t("optInWaiting") : t("optedIn")}</Body1>
      </div>
      <div className={s.section}>
        <Subtitle2 as="h3">{t("participants")}</Subtitle2>
        <Caption1 className={s.muted} data-testid="cap">
          {t("participantsCap", { n: th.people.length, N: th.max_participants })}
        </Caption1>
        <ul className={s.people} data-testid="people">
          {th.people.map((p) => (
            <li key={p.id || p.name} className={s.person} data-person={p.id}>
              <Avatar name={p.name} size={24} aria-hidden />
              <Body1 className={s.personName}>{p.me ? p.name + " (" + t("you") + ")" : p.name}</Body1>
              {!p.me && p.id ? (
                <Button appearance="subtle" size="small" icon={<PersonDeleteRegular />} aria-label={t("removeColleague", { name: p.name })} title={t("removeColleague", { name: p.name })} onClick={() => onRemove(p.id!, p.name)} data-testid="remove" />
              ) : null}
            </li>
          ))}
        </ul>
        <Button icon={<PersonAddRegular />} onClick={onAdd} disabled={full} data-testid="add-colleague">
          {t("addColleague")}
        </Button>
        {full ? <Caption1 className={s.muted}>{t("capReached", { N: th.max_participants })}</Caption1> : null}
      </div>
    </aside>
  );
}
