import { mount } from 'svelte';
import '@/components/theme.css';
import App from './App.svelte';
import { applyDocumentLanguage } from '@/lib/view/document-language.ts';

applyDocumentLanguage();

mount(App, { target: document.getElementById('app')! });
