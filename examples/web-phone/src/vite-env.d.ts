/// <reference types="vite/client" />
/// <reference types="web-bluetooth" />
