export declare const upper: (s: string) => string;
