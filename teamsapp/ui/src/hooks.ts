import { useEffect, useState } from "react";
import { api, ApiError } from "./api";

/** useMedia follows a media query. */
export function useMedia(query: string): boolean {
  const [match, setMatch] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const mq = window.matchMedia(query);
    const on = () => setMatch(mq.matches);
    on();
    mq.addEventListener("change", on);
    return () => mq.removeEventListener("change", on);
  }, [query]);
  return match;
}

/** useMinuteTick re-renders every minute (the window's countdown), on the minute. */
export function useMinuteTick(): number {
  const [tick, setTick] = useState(() => Date.now());
  useEffect(() => {
    let iv: ReturnType<typeof setInterval> | undefined;
    const first = setTimeout(() => {
      setTick(Date.now());
      iv = setInterval(() => setTick(Date.now()), 60000);
    }, 60000 - (Date.now() % 60000));
    return () => {
      clearTimeout(first);
      if (iv) clearInterval(iv);
    };
  }, []);
  return tick;
}

/** useDebounced is value, once it has not changed for ms. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setV(value), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return v;
}

/** useGet loads path from the API once mounted, and again on reload. off is
 * why it could not (the server's message, say a 501 for what this server
 * does not offer); data keeps the last answer. */
export function useGet<T>(path: string): { data: T | null; off: string; reload: () => Promise<void> } {
  const [data, setData] = useState<T | null>(null);
  const [off, setOff] = useState("");
  const reload = async () => {
    try {
      setData(await api<T>("GET", path));
      setOff("");
    } catch (e) {
      setOff(e instanceof ApiError ? e.message : String(e));
    }
  };
  useEffect(() => {
    reload();
  }, [path]);
  return { data, off, reload };
}
