export const shout = async (s: string): Promise<string> => s.toUpperCase();
