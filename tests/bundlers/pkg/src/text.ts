import { upper } from "tiny-dep";

export const shout = async (s: string): Promise<string> => upper(s);
