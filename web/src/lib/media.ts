import { ref } from 'vue';

/** Phone width (as style.css's `hide-narrow`): tables then drop their optional columns. */
const query = matchMedia('(max-width: 700px)');
export const narrow = ref(query.matches);
query.addEventListener('change', () => {
  narrow.value = query.matches;
});
